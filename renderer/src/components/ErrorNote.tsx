import { ApiCallError, ConnectionLost } from '../api/client.ts';

/**
 * Shows a failure the way UX principle 7 asks: the sentence that says what to do first, the tag
 * and technical message one click away. Every tagged error goes through here.
 */
export function ErrorNote({ error, title }: { error: unknown; title?: string }) {
  if (error === null || error === undefined) return null;
  const tagged = error instanceof ApiCallError ? error : null;
  const sentence = tagged
    ? tagged.explanation
    : error instanceof ConnectionLost
      ? error.message
      : 'Something unexpected went wrong in the window. Reload it; your vault is unchanged.';
  return (
    <div
      className="note note-error"
      role="alert"
      data-testid="error"
      data-tag={tagged?.tag ?? 'none'}
    >
      <span className="note-icon" aria-hidden="true">
        !
      </span>
      <div>
        {title ? <strong className="note-title">{title}</strong> : null}
        <p className="note-text">{sentence}</p>
        <details className="note-details">
          <summary>Technical details</summary>
          <code>
            {tagged
              ? `${tagged.tag}: ${tagged.message}`
              : String((error as Error).message ?? error)}
          </code>
        </details>
      </div>
    </div>
  );
}
