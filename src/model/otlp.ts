/** The two OTLP payload encodings. */
export type OtlpEncoding = 'protobuf' | 'json';
