/** IP privacy: the call goes through the relay only, so the partner never learns this person's address. */
export function PrivacyToggle({ checked, error, onChange }: { checked: boolean; error: string | null; onChange: (on: boolean) => void }) {
  return (
    <div className="privacy">
      <label title="Your video goes through Duet’s relay server, so the other person never sees your IP address. Calls may take a moment longer to connect.">
        <input
          type="checkbox"
          data-testid="privacy"
          checked={checked}
          onChange={(e) => onChange(e.target.checked)}
          aria-describedby={error ? 'privacy-error' : undefined}
        />
        <span>Hide my IP address (relay only)</span>
      </label>
      {error && (
        <p className="privacy-error" id="privacy-error" data-testid="privacy-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
