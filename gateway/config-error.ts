/** A config value that is not allowed: names the key, the value and what is allowed. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly value: unknown,
    readonly allowed: string,
  ) {
    super(`config: ${key} = ${JSON.stringify(value)} is not allowed; allowed: ${allowed}`);
    this.name = "ConfigError";
  }
}
