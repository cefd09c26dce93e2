/** An honest empty state for a screen whose core has not landed: what it will do, and when. */
export function ComingSoon({
  title,
  arrives,
  what,
  meanwhile,
  level = 1,
}: {
  level?: 1 | 2;
  title: string;
  arrives: string;
  what: string;
  meanwhile: string;
}) {
  return (
    <section className="screen" aria-label={title} data-testid={`coming-${title}`}>
      {level === 2 ? <h2>{title}</h2> : <h1>{title}</h1>}
      <div className="empty">
        <p className="empty-badge">Coming {arrives}</p>
        <p className="empty-lead">{what}</p>
        <p className="muted">{meanwhile}</p>
      </div>
    </section>
  );
}
