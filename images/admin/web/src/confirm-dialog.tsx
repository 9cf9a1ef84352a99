// A modal that asks the user to type a name before a dangerous action goes ahead.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

export interface ConfirmDialogProps {
  title: string;
  children: ComponentChildren;
  /** What the user must type to confirm. */
  name: string;
  action: string;
  danger?: boolean;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

export function ConfirmDialog(props: ConfirmDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const confirm = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (typed !== props.name) {
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await props.onConfirm();
      props.onClose();
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
      setBusy(false);
    }
  };

  return (
    <dialog ref={dialog} class="dialog" onClose={props.onClose} aria-labelledby="confirm-title">
      <form onSubmit={(e) => void confirm(e)}>
        <h2 id="confirm-title">{props.title}</h2>
        <div class="dialog-body">{props.children}</div>
        <label class="field">
          <span>
            Type <strong class="mono">{props.name}</strong> to confirm
          </span>
          <input
            type="text"
            name="confirm"
            autoFocus
            autoComplete="off"
            spellcheck={false}
            value={typed}
            onInput={(e) => setTyped(e.currentTarget.value)}
          />
        </label>
        {error && (
          <p class="error-text" role="alert">
            {error}
          </p>
        )}
        <div class="dialog-actions">
          <button type="button" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button type="submit" class={props.danger ? 'danger' : 'primary'} disabled={busy || typed !== props.name}>
            {busy ? 'Working…' : props.action}
          </button>
        </div>
      </form>
    </dialog>
  );
}
