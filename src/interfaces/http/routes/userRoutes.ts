import { Router } from 'express';
import type { QueryService } from '../../../application/queries/QueryService';
import type { RegisterUserInput, UpdateUserInput, UserService } from '../../../application/users/UserService';
import { jsonBody, methodNotAllowed } from '../middleware';
import { awaitProjection, BODY_LIMIT_BYTES, commandContext, sendCreated, setETag, type WriteSupport } from '../routeSupport';
import { parseIdParam, schemas, validateBody } from '../validation';

export function userRoutes(users: UserService, queries: QueryService, support: WriteSupport): Router {
  const router = Router();

  router.post('/users', jsonBody(BODY_LIMIT_BYTES), async (request, response) => {
    const input = validateBody<RegisterUserInput>(schemas.createUser, request.body);

    const result = await users.register(input, commandContext(request, support.ids));
    await awaitProjection(request, result, support);

    sendCreated(response, '/users', 'user created', result);
  });
  router.all('/users', methodNotAllowed(['POST']));

  router.get('/users/:user_id', async (request, response) => {
    const userId = parseIdParam('user_id', request.params.user_id);

    const record = await queries.get('users', userId);

    setETag(response, record.revision);
    response.json({ status: 'success', data: record.view });
  });

  router.put('/users/:user_id', jsonBody(BODY_LIMIT_BYTES), async (request, response) => {
    const userId = parseIdParam('user_id', request.params.user_id);
    const input = validateBody<UpdateUserInput>(schemas.updateUser, request.body);

    const result = await users.update(userId, input, commandContext(request, support.ids));
    await awaitProjection(request, result, support);
    const record = await queries.get('users', userId);

    setETag(response, result.revision);
    response.json({ status: 'success', data: record.view });
  });

  router.delete('/users/:user_id', async (request, response) => {
    const userId = parseIdParam('user_id', request.params.user_id);

    const result = await users.delete(userId, commandContext(request, support.ids));
    await awaitProjection(request, result, support);

    response.json({ status: 'user deleted' });
  });
  router.all('/users/:user_id', methodNotAllowed(['GET', 'PUT', 'DELETE']));

  return router;
}
