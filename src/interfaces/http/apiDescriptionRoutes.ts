import { Router } from 'express';
import { renderDocsPage } from './docsPage';
import { methodNotAllowed } from './middleware';
import { openApiDocument } from './openapi';

/** The page has no scripts and loads nothing, so the policy allows only its inline style. */
const DOCS_CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'";

/** Serves the OpenAPI document at `/openapi.json` and its HTML rendering at `/docs`. */
export function apiDescriptionRoutes(): Router {
  const router = Router();
  const documentJson = JSON.stringify(openApiDocument);
  const docsPage = renderDocsPage(openApiDocument);

  router.get('/openapi.json', (_request, response) => {
    response.type('application/json').send(documentJson);
  });
  router.all('/openapi.json', methodNotAllowed(['GET']));

  router.get('/docs', (_request, response) => {
    response.setHeader('Content-Security-Policy', DOCS_CONTENT_SECURITY_POLICY);
    response.type('html').send(docsPage);
  });
  router.all('/docs', methodNotAllowed(['GET']));

  return router;
}
