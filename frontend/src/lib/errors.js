// What to tell the user about a failed call, in their language: the API's error codes
// (and the client's own "network") have translations; anything else keeps the server's
// message, which is English.

/**
 * @param {(key: string, options?: object) => string} t the i18n translate function
 * @param {{ code?: string, field?: string, message: string }} err
 * @returns {string}
 */
export function errorText(t, err) {
  if (err.code === "validation_error" && err.field === "password") {
    const min = /at least (\d+)/.exec(err.message);
    return min ? t("errors.passwordTooShort", { count: Number(min[1]) }) : err.message;
  }
  if (err.code === "validation_error" && err.field === "email") return t("errors.emailInvalid");
  if (!err.code || err.code === "validation_error") return err.message;
  return t("errors." + err.code, { defaultValue: err.message });
}
