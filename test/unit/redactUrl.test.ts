import { redactUrl } from '../../src/infrastructure/messaging/RabbitMqPublisher';

describe('redactUrl', () => {
  it.each([
    ['amqp://guest:guest@127.0.0.1:5672/shopstream', 'amqp://guest:***@127.0.0.1:5672/shopstream'],
    ['amqps://app:s3cr%40t@broker.example:5671/%2F?heartbeat=30', 'amqps://app:***@broker.example:5671/%2F?heartbeat=30'],
    ['amqp://app@127.0.0.1:5672/', 'amqp://app@127.0.0.1:5672/'],
    ['amqp://127.0.0.1', 'amqp://127.0.0.1'],
  ])('redacts %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it.each([
    'guest:secret@broker:5672',
    'amqp://guest:secret@bad host/',
    'secret',
  ])('replaces %s whole', (url) => {
    const redacted = redactUrl(url);

    expect(redacted).not.toContain('secret');
    expect(redacted).toBe('[unparseable URL]');
  });
});
