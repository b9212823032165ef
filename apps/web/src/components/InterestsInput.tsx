import { LIMITS } from '@duet/protocol';
import { useRef, type KeyboardEvent } from 'react';
import { useAppText } from '../i18n/index.js';
import { addTags, splitDraft } from '../interests.js';

/**
 * Interest tags as removable chips, typed into one input: a comma, space or Enter finishes a tag,
 * Backspace in an empty input takes the last one back. The word still being typed counts too
 * (Start reads it), so typing "chess" and pressing Start just works.
 */
export function InterestsInput({
  tags,
  draft,
  onChange,
}: {
  tags: string[];
  draft: string;
  onChange: (next: { tags: string[]; draft: string }) => void;
}) {
  const t = useAppText();
  const inputRef = useRef<HTMLInputElement>(null);
  const full = tags.length >= LIMITS.maxInterests;

  const type = (text: string) => {
    const { done, rest } = splitDraft(text);
    onChange({ tags: addTags(tags, done), draft: rest });
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter' && draft.trim()) {
      e.preventDefault();
      onChange({ tags: addTags(tags, [draft]), draft: '' });
    } else if (e.key === 'Backspace' && draft === '' && tags.length > 0) {
      e.preventDefault();
      onChange({ tags: tags.slice(0, -1), draft: tags[tags.length - 1]! });
    }
  };

  return (
    <div className="interests">
      <label className="interests-label sr-only-narrow" htmlFor="interests-input">
        {t('app.interests.label')}
      </label>
      {/* A click anywhere in the box lands in the input, as in any tag field. */}
      <div className="tag-box" onClick={() => inputRef.current?.focus()}>
        {tags.map((tag) => (
          <span className="tag" key={tag}>
            #{tag}
            <button
              type="button"
              className="tag-remove"
              aria-label={t('app.interests.remove', { tag })}
              onClick={(e) => {
                e.stopPropagation();
                onChange({ tags: tags.filter((x) => x !== tag), draft });
              }}
            >
              <span aria-hidden="true">×</span>
            </button>
          </span>
        ))}
        <input
          id="interests-input"
          ref={inputRef}
          data-testid="interests"
          value={draft}
          onChange={(e) => type(e.target.value)}
          onKeyDown={onKeyDown}
          placeholder={full ? '' : tags.length ? t('app.interests.another') : t('app.interests.placeholder')}
          aria-describedby="interests-hint"
          autoComplete="off"
          enterKeyHint="done"
        />
      </div>
      <small id="interests-hint" className="interests-hint">
        {full ? t('app.interests.full', { max: LIMITS.maxInterests }) : t('app.interests.hint', { max: LIMITS.maxInterests })}
      </small>
    </div>
  );
}
