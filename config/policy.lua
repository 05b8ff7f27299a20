-- Operator policy for itcloud. Edit and save: the server reloads it without a
-- restart (APP_ENV=dev watches this folder; otherwise send SIGHUP). A mistake here
-- is logged and the previous policy keeps serving.
--
-- Settings left out keep their defaults (shown commented). Functions named
-- check_registration(email) -> boolean and check_password(password, email) ->
-- nil | "reason" may refine the rules further.
return {
  -- Who may create an account: "open" or "closed".
  registration = "open",

  -- Passwords: at least this many characters; long passphrases are welcome.
  password_min_length = 8,
  -- password_max_length = 1024,

  -- Login throttling (no hard lockout): after free_failures failures within the
  -- window, each attempt waits 2^n seconds after the last failure, up to
  -- max_delay_seconds.
  -- login_throttle = {
  --   ip = { free_failures = 20, window_seconds = 900, max_delay_seconds = 60 },
  --   account_ip = { free_failures = 5, window_seconds = 900, max_delay_seconds = 60 },
  --   account = { free_failures = 50, window_seconds = 3600, max_delay_seconds = 30 },
  -- },
}
