import { LIMITS } from '@duet/protocol';
import { useAppText } from '../i18n/index.js';
import type { TopInterest } from '../useDuet.js';

/**
 * What people waiting right now are into, as chips that add the tag to this person's interests.
 * `own` are the tags this person is waiting with themselves: they are taken off the counts, so a
 * person alone with #chess is not shown "#chess · 1" as if someone else shared it.
 */
export function TopInterests({
  items,
  own = [],
  chosen,
  label,
  onPick,
}: {
  items: TopInterest[];
  own?: string[];
  chosen: string[];
  label: string;
  onPick: (tag: string) => void;
}) {
  const t = useAppText();
  const others = items.map((i) => ({ tag: i.tag, count: i.count - (own.includes(i.tag) ? 1 : 0) })).filter((i) => i.count > 0);
  if (others.length === 0) return null;
  const full = chosen.length >= LIMITS.maxInterests;
  return (
    <div className="top-interests" data-testid="top-interests" role="group" aria-label={label}>
      <span className="top-label">{label}</span>
      {others.map(({ tag, count }) => {
        const has = chosen.includes(tag);
        return (
          <button
            key={tag}
            type="button"
            className="chip"
            aria-pressed={has}
            disabled={has || full}
            onClick={() => onPick(tag)}
            title={has ? t('app.topInterests.yours', { tag: `#${tag}` }) : t('app.topInterests.add', { count, tag: `#${tag}` })}
          >
            #{tag}
            <span className="chip-count" aria-hidden="true">
              {t.intl.formatNumber(count)}
            </span>
            <span className="sr-only">{` ${t('app.topInterests.count', { count })}`}</span>
          </button>
        );
      })}
    </div>
  );
}
