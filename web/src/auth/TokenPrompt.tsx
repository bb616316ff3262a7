// For users without a password (and the bootstrap admin): asks for an API token once. Reached
// from the login page ("Use an API token instead"); calls onDone when the AuthProvider is ready.
import { useState } from "preact/hooks";
import { auth } from "./session";

export function TokenPrompt(props: { onDone: () => void; error?: string; onPassword?: () => void }) {
  const [token, setToken] = useState("");
  const [remember, setRemember] = useState(true);
  return (
    <div class="token-prompt">
      <h1>Nereid</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!token.trim()) return;
          auth.set(token, remember);
          props.onDone();
        }}
      >
        <label>
          Access token
          <input
            name="token"
            type="password"
            autoFocus
            value={token}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
            placeholder="contents of <data>/admin.token"
          />
        </label>
        <label class="inline">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember((e.target as HTMLInputElement).checked)} />
          Remember on this browser
        </label>
        {props.error && <p class="error">{props.error}</p>}
        <button type="submit">Open</button>
      </form>
      {props.onPassword && (
        <p class="hint">
          <button class="link" onClick={props.onPassword}>Sign in with a password instead</button>
        </p>
      )}
      <p class="hint">The server printed the admin token on its first start and wrote it to <code>&lt;data&gt;/admin.token</code>.</p>
    </div>
  );
}
