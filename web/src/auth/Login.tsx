// The sign-in page: user name + password (a session cookie), or an API token for users who have
// no password (service accounts, the bootstrap admin). It is shown in place of the page the user
// asked for, at the same URL, so signing in (again, after a session expired) lands there. Calls
// onDone once auth is ready, the same contract as TokenPrompt.
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import { logIn, resumeSession } from "./login";
import { TokenPrompt } from "./TokenPrompt";

export function LoginPage(props: { onDone: () => void; error?: string }) {
  const [mode, setMode] = useState<"checking" | "password" | "token">("checking");
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(props.error);

  // A page reload keeps the cookie but loses the in-memory CSRF token: ask for it first.
  useEffect(() => {
    const ctl = new AbortController();
    resumeSession(ctl.signal).then(
      (ok) => (ok ? props.onDone() : setMode("password")),
      (e: unknown) => {
        if (ctl.signal.aborted) return;
        setError(e instanceof Error ? e.message : String(e));
        setMode("password");
      },
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  if (mode === "checking") return <div class="token-prompt muted">Checking the session…</div>;
  if (mode === "token") return <TokenPrompt error={props.error} onDone={props.onDone} onPassword={() => setMode("password")} />;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!user.trim() || !password) return;
    setBusy(true);
    setError(undefined);
    try {
      await logIn(user.trim(), password);
      props.onDone();
    } catch (err) {
      // 401 "wrong user name or password", 429 "too many login attempts ...; retry in N s".
      setError(err instanceof ApiError ? err.message : `Cannot reach the server: ${String(err)}`);
      setPassword("");
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="token-prompt" data-testid="login">
      <h1>Nereid</h1>
      <form onSubmit={submit}>
        <label>
          User name
          <input name="user" autoComplete="username" autoFocus value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </label>
        {error && <p class="error" data-testid="login-error">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>{busy ? "Signing in…" : "Sign in"}</button>
      </form>
      <p class="hint">
        <button class="link" data-testid="use-token" onClick={() => setMode("token")}>Use an API token instead</button>
        {" "}(service accounts, the server's admin token, users without a password). An administrator sets
        a password with <code>nereid admin users passwd NAME</code>.
      </p>
    </div>
  );
}
