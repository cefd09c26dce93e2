// app/api's types reach app/errors, which names this one Node type in a signature. The renderer
// has no Node types (it is unprivileged); this declares just that name so the types check.
declare namespace NodeJS {
  interface ErrnoException extends Error {
    code?: string;
  }
}
