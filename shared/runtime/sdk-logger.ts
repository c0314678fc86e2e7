/**
 * Drops the SDK's logger middleware. It runs only for the SDK's own logger, which these clients leave at its
 * no-op default, yet it copies every command's input and output through their log filters first: for a page of
 * DynamoDB items that copy was about a sixth of everything a list request allocated.
 */
export function withoutSdkLogger<C extends { middlewareStack: { remove(name: string): boolean } }>(client: C): C {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}
