/** One step of a staged operation (UX principle 4): a mark, its words, and its state spoken. */
export type StageState = 'done' | 'active' | 'stopped' | 'todo';

const MARKS: Record<StageState, string> = { done: '✓', active: '●', stopped: '✕', todo: '○' };
const SPOKEN: Record<StageState, string> = {
  done: 'done',
  active: 'in progress',
  stopped: 'stopped',
  todo: 'to do',
};

export function Stage({ label, state }: { label: string; state: StageState }) {
  return (
    <li className={`stage stage-${state}`} aria-current={state === 'active' ? 'step' : undefined}>
      <span className="stage-mark" aria-hidden="true">
        {MARKS[state]}
      </span>
      {label}
      <span className="visually-hidden">{` (${SPOKEN[state]})`}</span>
    </li>
  );
}
