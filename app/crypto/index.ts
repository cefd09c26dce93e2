export {
  DEFAULT_CHUNK_SIZE,
  FORMAT_VERSION,
  HEADER_BYTES,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
  decryptStream,
  encryptStream,
  newDatasetId,
  parseHeader,
  readHeader,
  type ByteSink,
  type ByteSource,
  type ContainerHeader,
  type DecryptParams,
  type EncryptParams,
  type StreamOptions,
} from './container.ts';
export { decryptFile, encryptFile, encryptToFile, type FileProgress } from './files.ts';
export { loadBackend, sodium, type BackendName, type SodiumBackend } from './sodium.ts';
export { channel, iterableSource } from './streams.ts';
