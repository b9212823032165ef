export function RulesGate({ onAccept, busy }: { onAccept: () => void; busy: boolean }) {
  return (
    <div className="gate" role="dialog" aria-modal="true" aria-labelledby="gate-title">
      <div className="gate-card">
        <h1 id="gate-title">Before you meet anyone</h1>
        <p>Duet connects you by live video with people you don’t know. To keep it good for everyone:</p>
        <ul>
          <li>
            You must be <strong>18 or older</strong>.
          </li>
          <li>No nudity, sexual content, harassment, hate or violence.</li>
          <li>Don’t record or share anyone without their consent.</li>
          <li>
            Use <strong>Next</strong> to move on, <strong>Block</strong> or <strong>Report</strong> if someone breaks the rules.
          </li>
        </ul>
        <p className="fine">Reports are reviewed by moderators; breaking the rules gets you banned.</p>
        <button className="btn primary wide" data-testid="accept-rules" onClick={onAccept} disabled={busy}>
          I’m 18 or older and I accept the rules
        </button>
      </div>
    </div>
  );
}
