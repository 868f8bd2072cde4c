/**
 * The admin token, kept in sessionStorage (this tab only, gone when it closes), never in
 * localStorage or a cookie. Falls back to memory when storage is unavailable (privacy modes).
 */

const KEY = "mqtt-console.admin-token";
let memory: string | null = null;

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

export function loadToken(): string | null {
  try {
    return storage()?.getItem(KEY) ?? memory;
  } catch {
    return memory;
  }
}

export function saveToken(token: string): void {
  memory = token;
  try {
    storage()?.setItem(KEY, token);
  } catch {
    // Quota or privacy mode: memory only.
  }
}

export function forgetToken(): void {
  memory = null;
  try {
    storage()?.removeItem(KEY);
  } catch {
    // Nothing stored.
  }
}
