/**
 * `# UNIT` → OTel unit, per the compatibility spec: full words to UCUM abbreviations, "ratio" → "1",
 * "foo_per_bar" → "foo/bar" (singular after _per_, e.g. bytes_per_second → By/s). Units not in the table are kept as written.
 */
const WORDS: Record<string, string> = {
  days: 'd',
  hours: 'h',
  minutes: 'min',
  seconds: 's',
  milliseconds: 'ms',
  microseconds: 'us',
  nanoseconds: 'ns',
  bytes: 'By',
  kibibytes: 'KiBy',
  mebibytes: 'MiBy',
  gibibytes: 'GiBy',
  tibibytes: 'TiBy',
  kilobytes: 'kBy',
  megabytes: 'MBy',
  gigabytes: 'GBy',
  terabytes: 'TBy',
  meters: 'm',
  volts: 'V',
  amperes: 'A',
  joules: 'J',
  watts: 'W',
  grams: 'g',
  celsius: 'Cel',
  hertz: 'Hz',
  ratio: '1',
  percent: '%',
};

export function otelUnit(unit: string): string {
  if (unit === '') return '';
  const per = unit.indexOf('_per_');
  if (per > 0) return `${otelUnit(unit.slice(0, per))}/${otelUnit(unit.slice(per + 5))}`;
  return WORDS[unit] ?? WORDS[`${unit}s`] ?? unit;
}
