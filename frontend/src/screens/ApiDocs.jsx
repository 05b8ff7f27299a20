// Swagger UI (from swagger-ui-dist) over the server's OpenAPI document, loaded on
// demand so it is not part of the app's first screen.
import { useEffect, useRef } from "react";

export default function ApiDocs() {
  const node = useRef(null);
  useEffect(() => {
    let live = true;
    Promise.all([
      import("swagger-ui-dist/swagger-ui-bundle.js"),
      import("swagger-ui-dist/swagger-ui.css"),
    ]).then(([bundle]) => {
      const SwaggerUIBundle = bundle.default || bundle.SwaggerUIBundle || window.SwaggerUIBundle;
      if (live && node.current) {
        SwaggerUIBundle({ url: "/api/v1/openapi.json", domNode: node.current, deepLinking: true });
      }
    });
    return () => {
      live = false;
    };
  }, []);
  return (
    <div ref={node} data-testid="swagger" style={{ background: "#fff", minHeight: "100vh" }} />
  );
}
