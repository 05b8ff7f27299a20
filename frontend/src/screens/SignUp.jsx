import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { auth } from "../api/client.js";
import { useAuth } from "../auth/AuthContext.jsx";
import AuthForm from "./AuthForm.jsx";

export default function SignUp() {
  const { t } = useTranslation();
  const { signIn } = useAuth();
  const navigate = useNavigate();
  return (
    <AuthForm
      title={t("auth.signUp")}
      submitLabel={t("auth.createAccount")}
      footer={t("auth.haveAccount")}
      footerLink={t("auth.signIn")}
      footerTo="/login"
      newPassword
      onSubmit={async (email, password) => {
        await auth.register(email, password);
        await signIn(email, password);
        navigate("/", { replace: true });
      }}
    />
  );
}
