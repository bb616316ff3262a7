// How the UI proves who it is: either the session cookie set by a password login (the browser
// sends the HttpOnly cookie by itself; the UI adds the CSRF token the login answered, which a
// cross-site page cannot read), or an API token typed into the token prompt and kept in
// localStorage (or sessionStorage when "remember" is off) for users without a password. Nothing
// else in the UI knows how requests are authenticated.

import { TOKEN_KEY as KEY } from "./tokenKey";

export interface AuthProvider {
  /** Headers to add to every API request (bearer token, CSRF token...). */
  headers(): Record<string, string>;
  /** True when the provider has credentials worth trying. */
  ready(): boolean;
  /** Forget the credentials (after a 401 or on sign-out). */
  clear(): void;
}


export class TokenAuth implements AuthProvider {
  private token: string | null;

  constructor(private readonly storage: Pick<Storage, "getItem" | "setItem" | "removeItem">[]) {
    this.token = null;
    for (const s of storage) {
      const t = s.getItem(KEY);
      if (t) {
        this.token = t;
        break;
      }
    }
  }

  set(token: string, remember: boolean): void {
    this.clear();
    this.token = token.trim();
    const target = remember ? this.storage[0] : this.storage[1] ?? this.storage[0];
    target?.setItem(KEY, this.token);
  }

  headers(): Record<string, string> {
    return this.token ? { Authorization: `Bearer ${this.token}` } : {};
  }

  ready(): boolean {
    return !!this.token;
  }

  clear(): void {
    this.token = null;
    for (const s of this.storage) s.removeItem(KEY);
  }
}

function browserStorages(): Pick<Storage, "getItem" | "setItem" | "removeItem">[] {
  try {
    return [window.localStorage, window.sessionStorage];
  } catch {
    return [];
  }
}

/**
 * The session cookie's companion: the cookie itself is HttpOnly and goes with every same-origin
 * fetch, so all the UI holds is the CSRF token (from POST /api/v1/login or GET /api/v1/session),
 * in memory only; a reload asks GET /api/v1/session for it again.
 */
export class SessionAuth implements AuthProvider {
  private csrf: string | null = null;
  user: string | null = null;

  set(user: string, csrfToken: string): void {
    this.user = user;
    this.csrf = csrfToken;
  }

  headers(): Record<string, string> {
    return this.csrf ? { "X-CSRF-Token": this.csrf } : {};
  }

  ready(): boolean {
    return this.csrf !== null;
  }

  clear(): void {
    this.csrf = null;
    this.user = null;
  }
}

/** A typed token wins over the session (the server does the same with a bearer header). */
export class Auth implements AuthProvider {
  constructor(
    readonly token: TokenAuth,
    readonly session: SessionAuth,
  ) {}

  set(token: string, remember: boolean): void {
    this.session.clear();
    this.token.set(token, remember);
  }

  headers(): Record<string, string> {
    return this.token.ready() ? this.token.headers() : this.session.headers();
  }

  ready(): boolean {
    return this.token.ready() || this.session.ready();
  }

  clear(): void {
    this.token.clear();
    this.session.clear();
  }
}

export const auth = new Auth(new TokenAuth(typeof window === "undefined" ? [] : browserStorages()), new SessionAuth());
