import { describe, expect, it } from "vitest";
import i18n from "../i18n/index.js";
import { errorText } from "./errors.js";

const ru = i18n.getFixedT("ru");
const en = i18n.getFixedT("en");

describe("errorText", () => {
  it("translates the API's error codes", () => {
    const err = { code: "invalid_credentials", message: "email or password is incorrect" };
    expect(errorText(ru, err)).toBe("Неверная эл. почта или пароль.");
    expect(errorText(en, err)).toBe("The email or the password is not right.");
  });

  it("names the password's minimum length from a validation error, in the right form", () => {
    const err = {
      code: "validation_error",
      field: "password",
      message: "password must be at least 8 characters long",
    };
    expect(errorText(ru, err)).toBe("Пароль должен быть не короче 8 символов.");
    expect(errorText(ru, { ...err, message: "must be at least 1 characters long" })).toBe(
      "Пароль должен быть не короче 1 символа.",
    );
  });

  it("keeps the server's message for a code it does not know", () => {
    expect(errorText(ru, { code: "something_new", message: "details" })).toBe("details");
    expect(errorText(ru, new Error("plain"))).toBe("plain");
  });
});
