-- Operator policy for itcloud. Edit and save: the server reloads it without a
-- restart (APP_ENV=dev watches this folder; otherwise send SIGHUP). A mistake here
-- is logged and the previous policy keeps serving.
--
-- Settings left out keep their defaults (shown commented). Functions named
-- check_registration(email) -> boolean, check_password(password, email) ->
-- nil | "reason" and check_upload(user, upload) -> nil | "reason" may refine the
-- rules further; the share settings below may each be a function of the user.
return {
  -- Who may create an account: "open" or "closed".
  registration = "open",

  -- Passwords: at least this many characters; long passphrases are welcome.
  password_min_length = 8,
  -- password_max_length = 1024,

  -- Uploads: a per-user storage quota in bytes (false = unlimited), or a function
  -- quota_bytes(user) -> bytes | false. check_upload(user, { filename, content_type,
  -- size_bytes }) -> nil | "reason" may refuse uploads; the largest file is set by
  -- MAX_UPLOAD_SIZE_BYTES.
  quota_bytes = false,

  -- Days a trashed photo or video is kept before it is deleted for good.
  trash_retention_days = 30,

  -- Accounts (by email) that may see operator views such as /api/v1/jobs/stats.
  operators = {},

  -- Login throttling (no hard lockout): after free_failures failures within the
  -- window, each attempt waits 2^n seconds after the last failure, up to
  -- max_delay_seconds.
  -- login_throttle = {
  --   ip = { free_failures = 20, window_seconds = 900, max_delay_seconds = 60 },
  --   account_ip = { free_failures = 5, window_seconds = 900, max_delay_seconds = 60 },
  --   account = { free_failures = 50, window_seconds = 3600, max_delay_seconds = 30 },
  -- },

  -- Share links. Each setting is a value or a function(user) -> value (an answer of
  -- the wrong type counts as the strict one). shares_allowed, share_password_required
  -- and share_downloads_allowed are also asked on every visit of a link, with its
  -- owner (id, email, created_at), so a stricter policy holds for links already made.
  -- Whether people may make public links at all.
  shares_allowed = true,
  -- The longest a link may last, in days (false: links may never expire). With a
  -- limit, a link made without an expiry gets the longest.
  share_max_expiry_days = false,
  -- Whether every link needs a password.
  share_password_required = false,
  -- Whether owners may let visitors download originals.
  share_downloads_allowed = true,
  -- Share-password throttling, per share and per IP, as for logins.
  -- share_throttle = {
  --   share = { free_failures = 10, window_seconds = 900, max_delay_seconds = 60 },
  --   ip = { free_failures = 5, window_seconds = 900, max_delay_seconds = 60 },
  -- },
}
