// How the UI proves who it is. Today: the admin bearer token, typed once and kept in
// localStorage (or sessionStorage when "remember" is off). When accounts land (password login,
// session cookies + CSRF), a cookie-based AuthProvider replaces this one and the login page
// replaces TokenPrompt; nothing else in the UI knows how requests are authenticated.

export interface AuthProvider {
  /** Headers to add to every API request (bearer token, CSRF token...). */
  headers(): Record<string, string>;
  /** True when the provider has credentials worth trying. */
  ready(): boolean;
  /** Forget the credentials (after a 401 or on sign-out). */
  clear(): void;
}

const KEY = "nereid.token";

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

export const auth = new TokenAuth(typeof window === "undefined" ? [] : browserStorages());
