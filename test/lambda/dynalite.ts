/**
 * dynalite (npm), a DynamoDB implementation, started in-process on an ephemeral port: the state
 * table's condition expressions run for real, as DynamoDB evaluates them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { StateTableSchema } from '../../lib/core';

interface DynaliteServer {
  listen(port: number, host: string, callback: (err?: Error) => void): void;
  close(callback: (err?: Error) => void): void;
  address(): AddressInfo | string | null;
}
type DynaliteFactory = (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => DynaliteServer;

/** dynalite ships no type declarations: load it by a name TypeScript does not resolve. */
const DYNALITE = 'dynalite';

const CREDENTIALS = { accessKeyId: 'x', secretAccessKey: 'y' };

export interface Dynalite {
  readonly endpoint: string;
  /** A client of the server; no SDK retries, so a fault surfaces at once. */
  readonly client: DynamoDBClient;
  /** Creates a fresh state table (the construct's schema) and returns its name. */
  createStateTable(): Promise<string>;
  close(): Promise<void>;
}

let tables = 0;

export function dynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
}

export async function startDynalite(): Promise<Dynalite> {
  const mod = (await import(DYNALITE)) as { default?: DynaliteFactory } & DynaliteFactory;
  const dynalite: DynaliteFactory = mod.default ?? mod;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = dynamoClient(endpoint);
  return {
    endpoint,
    client,
    async createStateTable() {
      // dynalite validates like DynamoDB: table names of at least 3 characters.
      const name = `rt-state-${++tables}-${process.pid}`;
      await client.send(
        new CreateTableCommand({
          TableName: name,
          AttributeDefinitions: [{ AttributeName: StateTableSchema.PARTITION_KEY, AttributeType: 'S' }],
          KeySchema: [{ AttributeName: StateTableSchema.PARTITION_KEY, KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      for (let i = 0; i < 100; i++) {
        const out = await client.send(new DescribeTableCommand({ TableName: name }));
        if (out.Table?.TableStatus === 'ACTIVE') return name;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      throw new Error(`table ${name} never became ACTIVE`);
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/** An endpoint nobody listens on (a port that was just freed): every request fails to connect. */
export async function closedEndpoint(): Promise<string> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/**
 * Dynalite for the test file (started once, closed after it) and a fresh state table before each
 * test: `onTable` gets the server and the new table's name.
 */
export function withStateTable(onTable: (db: Dynalite, table: string) => void): void {
  let db: Dynalite | undefined;
  beforeAll(async () => {
    db = await startDynalite();
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    onTable(db!, await db!.createStateTable());
  });
}
