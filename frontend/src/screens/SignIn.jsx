import { useTranslation } from "react-i18next";
import { Navigate, useLocation, useNavigate } from "react-router";
import { nextPath, useAuth } from "../auth/AuthContext.jsx";
import AuthForm from "./AuthForm.jsx";

export default function SignIn() {
  const { t } = useTranslation();
  const { user, signIn } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const next = nextPath(location.search);
  if (user) return <Navigate to={next} replace />;
  return (
    <AuthForm
      title={t("auth.signIn")}
      submitLabel={t("auth.signIn")}
      footer={t("auth.noAccount")}
      footerLink={t("auth.signUp")}
      footerTo="/register"
      onSubmit={async (email, password) => {
        await signIn(email, password);
        navigate(next, { replace: true });
      }}
    />
  );
}
