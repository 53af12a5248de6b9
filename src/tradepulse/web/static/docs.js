// Swagger UI for /docs from the vendored bundle (no CDN; the page's CSP forbids inline scripts).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null,
                               presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout"});
});
