// The admin token prompt: shown when the plane answers 401, kept for the tab's session once given.
import { useState } from 'preact/hooks';
import { auth, setToken } from '../lib/auth.js';

export function TokenPrompt() {
  const [value, setValue] = useState('');
  return (
    <div class="modal-backdrop">
      <form class="modal" onSubmit={(e) => { e.preventDefault(); if (value.trim() !== '') setToken(value.trim()); }}>
        <h2>Admin token</h2>
        <p>
          This control plane has an admin token (it always has one when it listens off loopback), so its dashboard and API need it.
          <code>berth up</code> printed it when it generated it; it is in <code>$BERTH_HOME/admin-token</code> on the plane's machine
          (or the file given with <code>--admin-token-file</code>).
        </p>
        {auth.refused ? <p class="error" role="alert">That token was refused (401 ADMIN_UNAUTHORIZED). Check it and try again.</p> : null}
        <label>
          Token
          <input type="password" name="token" autocomplete="off" autofocus value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        </label>
        <p class="hint">Kept in this tab only (session storage) and sent as <code>Authorization: Bearer</code>, never in a URL.</p>
        <button type="submit" class="primary">Unlock</button>
      </form>
    </div>
  );
}
