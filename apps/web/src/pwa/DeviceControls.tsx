import type { AudioOutput, Facing, LocalDevices } from '@duet/client';
import { useCallback, useEffect, useId, useState, type RefObject } from 'react';
import { useAppText, type AppMessageId } from '../i18n/index.js';

const S = {
  group: { display: 'flex', flexWrap: 'wrap', alignItems: 'center', gap: 8 },
  button: { minHeight: 44, minWidth: 44, display: 'inline-flex', alignItems: 'center', gap: 8 },
  output: { display: 'inline-flex', alignItems: 'center', gap: 8 },
  select: {
    font: 'inherit',
    minHeight: 44,
    maxWidth: 220,
    padding: '0 10px',
    borderRadius: 10,
    background: 'var(--panel-2, #252533)',
    color: 'var(--text, #f2f2f7)',
    border: '1px solid rgb(255 255 255 / 0.18)',
  },
  error: { flexBasis: '100%', margin: 0, color: 'var(--warn, #ffb454)', fontSize: '0.9rem' },
} as const;

export interface DeviceControlsProps {
  /** The SDK's devices (`client.devices`); nothing is shown without them. */
  devices: LocalDevices | null | undefined;
  /** The partner's <video>, whose sound the speaker choice moves. */
  remoteVideo?: RefObject<HTMLVideoElement | null>;
  className?: string;
}

/**
 * The camera switch (only with two cameras or more, or a camera that says which way it looks) and
 * the speaker choice (only where the browser lets a page choose, and there is more than one), as
 * labelled native controls: a button and a select, operable by keyboard and screen reader.
 */
export function DeviceControls({ devices, remoteVideo, className }: DeviceControlsProps) {
  const t = useAppText();
  const outputId = useId();
  const [canSwitch, setCanSwitch] = useState(false);
  const [facing, setFacing] = useState<Facing | null>(devices?.camera.facing ?? null);
  const [outputs, setOutputs] = useState<AudioOutput[]>([]);
  const [output, setOutput] = useState(devices?.audioOutput ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppMessageId | null>(null);

  // What this browser offers, now and whenever a device is plugged in or out.
  useEffect(() => {
    if (!devices) return;
    let cancelled = false;
    const refresh = () =>
      void Promise.all([devices.canSwitchCamera(), devices.audioOutputs()]).then(([can, outs]) => {
        if (cancelled) return;
        setCanSwitch(can);
        setOutputs(outs);
        setFacing(devices.camera.facing);
      });
    refresh();
    const offCamera = devices.on('camera', (c) => setFacing(c.facing));
    navigator.mediaDevices?.addEventListener('devicechange', refresh);
    return () => {
      cancelled = true;
      offCamera();
      navigator.mediaDevices?.removeEventListener('devicechange', refresh);
    };
  }, [devices]);

  // A new partner's <video> plays on the chosen speaker too.
  useEffect(() => {
    void devices?.applyAudioOutput(remoteVideo?.current);
  });

  const switchCamera = useCallback(async () => {
    if (!devices) return;
    setBusy(true);
    setError(null);
    try {
      setFacing((await devices.switchCamera()).facing);
    } catch {
      setError('device.camera.failed');
    } finally {
      setBusy(false);
    }
  }, [devices]);

  const chooseOutput = useCallback(
    async (deviceId: string) => {
      if (!devices) return;
      setError(null);
      try {
        await devices.setAudioOutput(deviceId, [remoteVideo?.current]);
        setOutput(deviceId);
      } catch {
        setError('device.output.failed');
      }
    },
    [devices, remoteVideo],
  );

  if (!devices) return null;
  const showOutputs = devices.canChooseAudioOutput && outputs.length > 1;
  if (!canSwitch && !showOutputs) return null;
  const next = facing === 'user' ? 'environment' : facing === 'environment' ? 'user' : 'other';
  return (
    <div role="group" aria-label={t('device.controls.label')} className={className} style={S.group} data-testid="device-controls">
      {canSwitch && (
        <button
          type="button"
          className="btn"
          style={S.button}
          data-testid="camera-switch"
          // Named by the words it shows (WCAG 2.5.3); which camera comes next is its description.
          title={t('device.camera.switchTo', { facing: next })}
          disabled={busy}
          aria-busy={busy}
          onClick={() => void switchCamera()}
        >
          <SwitchIcon />
          <span>{t(busy ? 'device.camera.switching' : 'device.camera.switch')}</span>
        </button>
      )}
      {showOutputs && (
        <span style={S.output}>
          <label htmlFor={outputId}>{t('device.output.label')}</label>
          <select
            id={outputId}
            style={S.select}
            data-testid="audio-output"
            value={output || outputs[0]?.deviceId || ''}
            onChange={(e) => void chooseOutput(e.target.value)}
          >
            {outputs.map((o, i) => (
              <option key={o.deviceId} value={o.deviceId}>
                {o.label || (o.deviceId === 'default' ? t('device.output.default') : t('device.output.unnamed', { number: i + 1 }))}
              </option>
            ))}
          </select>
        </span>
      )}
      {error && (
        <p style={S.error} role="alert">
          {t(error)}
        </p>
      )}
    </div>
  );
}

function SwitchIcon() {
  return (
    <svg
      viewBox="0 0 24 24"
      width="20"
      height="20"
      aria-hidden="true"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.8"
      strokeLinecap="round"
      strokeLinejoin="round"
    >
      <path d="M4 8h3l1.5-2h7L17 8h3v11H4z" />
      <path d="M9.5 13.5a2.6 2.6 0 0 1 4.6-1.6M14.5 13.5a2.6 2.6 0 0 1-4.6 1.6" />
      <path d="M14.3 10.6v1.5h-1.5M9.7 16.4v-1.5h1.5" />
    </svg>
  );
}
