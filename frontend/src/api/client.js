// The one module that speaks to the API. The access token lives only in memory; the
// refresh token is an HttpOnly cookie the browser sends to /api/v1/auth, so a reload
// or an expired access token is answered by a silent refresh.

/**
 * @typedef {{ id: string, email: string, created_at: string }} User
 * @typedef {{
 *   id: string, type: "photo" | "video", status: string, original_filename: string,
 *   content_type: string, size_bytes: number, sha256: string, width?: number, height?: number,
 *   duration_ms?: number, captured_at?: string, created_at: string, deleted_at?: string,
 *   placeholder?: string, thumb_status: string, favorite?: boolean,
 *   camera_make?: string, camera_model?: string, lens_model?: string, exposure_time?: string,
 *   f_number?: number, iso?: number, focal_length?: number,
 *   gps_latitude?: number, gps_longitude?: number
 * }} Asset
 * @typedef {{ items: Asset[], next_cursor?: string }} AssetPage
 * @typedef {{ id: string, title: string, description?: string, asset_count: number,
 *   cover?: { asset_id: string, placeholder?: string, thumb_url?: string },
 *   cover_asset_id?: string, created_at: string }} Album
 * @typedef {{ id: string, name: string, asset_count: number }} Tag
 * @typedef {{ id: string, token: string, type: "asset" | "album", asset_id?: string,
 *   album_id?: string, album_title?: string, asset_filename?: string,
 *   state: "active" | "expired" | "revoked", expires_at?: string, password_protected: boolean,
 *   allow_download: boolean, view_count: number, last_viewed_at?: string,
 *   created_at: string }} Share
 */

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message
   * @param {string} [field] the input a validation error is about */
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

let accessToken = null;
let refreshing = null;
let onExpired = () => {};

/** Called when the session cannot be renewed (the app returns to sign-in). */
export function setSessionExpiredHandler(fn) {
  onExpired = fn;
}

/** Forget the access token (sign-out). */
export function clearAccessToken() {
  accessToken = null;
}

export function hasAccessToken() {
  return accessToken !== null;
}

async function parse(res) {
  if (res.status === 204) return null;
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const err = body && body.error ? body.error : { code: "http_" + res.status, message: text };
    throw new ApiError(res.status, err.code, err.message, err.field);
  }
  return body;
}

function send(method, path, { body, token, headers = {} } = {}) {
  const h = { ...headers };
  if (body !== undefined) h["Content-Type"] = "application/json";
  if (token) h.Authorization = "Bearer " + token;
  return fetch(path, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
}

/**
 * Ask for a new access token with the refresh cookie. Concurrent callers share one
 * request, because the server rotates the cookie on every use.
 * @returns {Promise<{ user: User } | null>}
 */
export function refresh() {
  if (!refreshing) {
    refreshing = send("POST", "/api/v1/auth/refresh", {
      headers: { "X-Requested-With": "itcloud" },
    })
      .then(parse)
      .then((body) => {
        accessToken = body.access_token;
        return body;
      })
      .catch(() => {
        accessToken = null;
        return null;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

/**
 * An authenticated call; a 401 triggers one silent refresh and a retry.
 * @returns {Promise<any>}
 */
export async function request(method, path, body) {
  if (!accessToken) await refresh();
  let res = await send(method, path, { body, token: accessToken });
  if (res.status === 401) {
    const renewed = await refresh();
    if (!renewed) {
      onExpired();
      throw new ApiError(401, "unauthorized", "session expired");
    }
    res = await send(method, path, { body, token: accessToken });
  }
  return parse(res);
}

/** A call that needs no account (public share pages); `headers` may carry a share session. */
export async function publicRequest(method, path, body, headers) {
  return parse(await send(method, path, { body, headers }));
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== "" && v !== false) q.set(k, String(v));
  }
  const s = q.toString();
  return s ? "?" + s : "";
}

const enc = encodeURIComponent;

export const auth = {
  /** @returns {Promise<{ user: User }>} */
  register: (email, password) =>
    publicRequest("POST", "/api/v1/auth/register", { email, password }),
  /** @returns {Promise<{ user: User, access_token: string }>} */
  login: async (email, password) => {
    const body = await publicRequest("POST", "/api/v1/auth/login", { email, password });
    accessToken = body.access_token;
    return body;
  },
  logout: async () => {
    try {
      await send("POST", "/api/v1/auth/logout", { headers: { "X-Requested-With": "itcloud" } });
    } finally {
      accessToken = null;
    }
  },
  logoutAll: async () => {
    await request("POST", "/api/v1/auth/logout-all");
    accessToken = null;
  },
  me: () => request("GET", "/api/v1/auth/me"),
  sessions: () => request("GET", "/api/v1/auth/sessions"),
};

export const assets = {
  /** @returns {Promise<AssetPage>} */
  list: (params) => request("GET", "/api/v1/assets" + query(params)),
  /** @returns {Promise<{ asset: Asset }>} */
  get: (id) => request("GET", `/api/v1/assets/${enc(id)}`),
  /** @returns {Promise<{ url: string, expires_in: number }>} */
  downloadUrl: (id, kind = "original") =>
    request("GET", `/api/v1/assets/${enc(id)}/download-url${query({ kind })}`),
  streamUrl: (id) => request("GET", `/api/v1/assets/${enc(id)}/stream-url`),
  bulk: (action, ids) => request("POST", "/api/v1/assets/bulk", { action, ids }),
  emptyTrash: () => request("POST", "/api/v1/assets/trash/empty"),
  favorite: (ids, favorite) =>
    request("POST", "/api/v1/assets/bulk", {
      action: favorite ? "favorite" : "unfavorite",
      ids,
    }),
  usage: () => request("GET", "/api/v1/me/usage"),
};

export const uploads = {
  create: (file) => request("POST", "/api/v1/uploads/create", file),
  parts: (id) => request("GET", `/api/v1/uploads/${enc(id)}/parts`),
  finalize: (id, parts) =>
    request("POST", `/api/v1/uploads/${enc(id)}/finalize`, parts ? { parts } : {}),
  abort: (id) => request("POST", `/api/v1/uploads/${enc(id)}/abort`),
};

export const albums = {
  /** @returns {Promise<{ items: Album[] }>} */
  list: () => request("GET", "/api/v1/albums"),
  /** @returns {Promise<{ album: Album }>} */
  get: (id) => request("GET", `/api/v1/albums/${enc(id)}`),
  /** @returns {Promise<{ album: Album }>} */
  create: (title) => request("POST", "/api/v1/albums", { title }),
  rename: (id, title) => request("PATCH", `/api/v1/albums/${enc(id)}`, { title }),
  remove: (id) => request("DELETE", `/api/v1/albums/${enc(id)}`),
  addAssets: (id, ids) => request("POST", `/api/v1/albums/${enc(id)}/assets`, { asset_ids: ids }),
  removeAssets: (id, ids) =>
    request("POST", `/api/v1/albums/${enc(id)}/assets/remove`, { asset_ids: ids }),
};

/** A new album holding `ids`. @returns {Promise<Album>} */
export async function albumOf(title, ids) {
  const { album } = await albums.create(title);
  await albums.addAssets(album.id, ids);
  return album;
}

export const tags = {
  /** @returns {Promise<{ items: Tag[] }>} */
  list: () => request("GET", "/api/v1/tags"),
  attach: (names, ids) => request("POST", "/api/v1/tags/attach", { names, asset_ids: ids }),
  rename: (id, name) => request("PATCH", `/api/v1/tags/${enc(id)}`, { name }),
  remove: (id) => request("DELETE", `/api/v1/tags/${enc(id)}`),
};

export const shares = {
  /** @returns {Promise<{ items: Share[] }>} */
  list: () => request("GET", "/api/v1/shares"),
  /** @returns {Promise<{ share: Share }>} */
  create: (input) => request("POST", "/api/v1/shares", input),
  revoke: (id) => request("POST", `/api/v1/shares/${enc(id)}/revoke`),
};

/** Public share access: `session` is the share session from unlock, if any. */
export const publicShare = {
  get: (token, session, params) =>
    publicRequest(
      "GET",
      `/api/v1/shares/${enc(token)}${query(params)}`,
      undefined,
      shareHeaders(session),
    ),
  unlock: (token, password) =>
    publicRequest("POST", `/api/v1/shares/${enc(token)}/unlock`, { password }),
  downloadUrl: (token, session, assetId, kind) =>
    publicRequest(
      "GET",
      `/api/v1/shares/${enc(token)}/download-url${query({ asset_id: assetId, kind })}`,
      undefined,
      shareHeaders(session),
    ),
};

function shareHeaders(session) {
  return session ? { "X-Share-Session": session } : {};
}

/**
 * PUT bytes to a signed URL with progress; resolves to the ETag (multipart parts).
 * @param {string} url @param {Blob} body @param {Record<string,string>} headers
 * @param {(loaded: number) => void} onProgress @param {AbortSignal} [signal]
 * @returns {Promise<string | null>}
 */
export function putBlob(url, body, headers, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [k, v] of Object.entries(headers || {})) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.getResponseHeader("ETag"));
      else reject(new ApiError(xhr.status, "put_failed", "storage answered " + xhr.status));
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "network error"));
    xhr.onabort = () => reject(new ApiError(0, "aborted", "aborted"));
    if (signal) signal.addEventListener("abort", () => xhr.abort());
    xhr.send(body);
  });
}
