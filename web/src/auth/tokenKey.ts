/** Where a remembered API token is kept (localStorage, else sessionStorage); no imports, so the
 * early request script (src/early/main.ts) can read it without the app. */
export const TOKEN_KEY = "nereid.token";
