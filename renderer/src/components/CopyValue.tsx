import { useState } from 'react';

/** An identifier in short form with a copy button (UX principle 1: identifiers one click away). */
export function CopyValue({
  value,
  label,
  short = 12,
}: {
  value: string;
  label: string;
  short?: number;
}) {
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle');
  const shown = value.length > short + 1 ? `${value.slice(0, short)}…` : value;
  return (
    <span className="copy-value">
      <code title={value}>{shown}</code>
      <button
        type="button"
        className="button button-small"
        aria-label={`Copy ${label}`}
        onClick={() => {
          navigator.clipboard.writeText(value).then(
            () => setCopied('copied'),
            () => setCopied('failed'),
          );
        }}
      >
        {copied === 'copied' ? 'Copied' : 'Copy'}
      </button>
      <span className="visually-hidden" aria-live="polite">
        {copied === 'copied' ? `${label} copied` : copied === 'failed' ? 'Copy failed' : ''}
      </span>
    </span>
  );
}
