/** An honest empty state for a screen whose core has not landed: what it will do, and when. */
export function ComingSoon({
  title,
  arrives,
  what,
  meanwhile,
}: {
  title: string;
  arrives: string;
  what: string;
  meanwhile: string;
}) {
  return (
    <section className="screen" aria-labelledby="screen-title" data-testid={`coming-${title}`}>
      <h1 id="screen-title">{title}</h1>
      <div className="empty">
        <p className="empty-badge">Coming {arrives}</p>
        <p className="empty-lead">{what}</p>
        <p className="muted">{meanwhile}</p>
      </div>
    </section>
  );
}
