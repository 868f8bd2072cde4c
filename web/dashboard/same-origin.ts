/** The API base is a same-origin path (`/api`), never a URL: the admin token must not leave the page's origin. */

/** Accepts only an absolute path (`/api`, `/admin/api/`) and returns it without trailing slashes; anything else throws. */
export function sameOriginBase(base: string): string {
  if (!/^\/(?![/\\])[^?#\\]*$/.test(base)) throw new Error(`the API base must be a same-origin path such as /api, not ${JSON.stringify(base)}`);
  return base.replace(/\/+$/, "");
}
