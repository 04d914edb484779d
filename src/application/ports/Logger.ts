/**
 * The structured logger the application writes to: context object first, constant message.
 * pino's `Logger` satisfies it; tests may pass a silent one.
 */
export interface Logger {
  debug(context: object, message: string): void;
  info(context: object, message: string): void;
  warn(context: object, message: string): void;
  error(context: object, message: string): void;
  child(bindings: object): Logger;
}
