// Prisma's own schema engine, compiled to WebAssembly and driven through the pg driver adapter: the Prisma CLI
// would download a native engine for every migrate command, and these machines cannot (docs/prisma-offline in README).
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  type SqlQueryable,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import * as glue from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';

// Node has WebAssembly, but its type declarations ship with lib "dom", which a server has no business loading.
declare const WebAssembly: {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;
// Marks, on a result's rows, the columns that were PostgreSQL "char" before they were passed off as text.
const CHAR_COLUMNS = Symbol('charColumns');

type QueryResult = { fields?: { dataTypeID: number }[]; rows?: unknown[] & { [CHAR_COLUMNS]?: number[] } };

// adapter-pg 7.10 cannot map PostgreSQL's internal "char" type, which the engine's catalog queries return:
// it reads as text here, and charAware() below tells the engine it was a character again.
class CatalogSafeClient extends pg.Client {
  override query(...args: unknown[]): any {
    const callback = typeof args.at(-1) === 'function' ? (args.pop() as (e: unknown, r?: unknown) => void) : undefined;
    const pending = (super.query as (...a: unknown[]) => Promise<QueryResult>)(...args).then((result) => {
      const chars: number[] = [];
      (result.fields ?? []).forEach((field, i) => {
        if (field.dataTypeID !== PG_CHAR_OID) return;
        field.dataTypeID = PG_TEXT_OID;
        chars.push(i);
      });
      if (chars.length && result.rows) Object.defineProperty(result.rows, CHAR_COLUMNS, { value: chars });
      return result;
    });
    if (!callback) return pending;
    pending.then((result) => callback(null, result), callback);
  }
}

// The engine reads some catalog columns as characters (get_expect_char): give it back that column type.
function charAware<T extends SqlQueryable>(queryable: T): T {
  const queryRaw = queryable.queryRaw.bind(queryable);
  queryable.queryRaw = async (query) => {
    const result = await queryRaw(query);
    for (const i of (result.rows as QueryResult['rows'])?.[CHAR_COLUMNS] ?? []) result.columnTypes[i] = ColumnTypeEnum.Character;
    return result;
  };
  return queryable;
}

const poolFor = (connectionString: string): pg.Pool => new pg.Pool({ connectionString, Client: CatalogSafeClient as unknown as typeof pg.Client, max: 2 });

// adapter-pg's own shadow database support connects to the main database and drops before closing its pool.
class MigrationAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres' as const;
  readonly adapterName = '@prisma/adapter-pg';
  private readonly mainPool: pg.Pool;

  constructor(private readonly databaseUrl: string) {
    this.mainPool = poolFor(databaseUrl);
  }

  async connect(): Promise<SqlDriverAdapter> {
    return charAware(await new PrismaPg(this.mainPool).connect());
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const name = `splitstream_shadow_${randomUUID().replaceAll('-', '')}`;
    await this.mainPool.query(`CREATE DATABASE "${name}"`);
    const url = new URL(this.databaseUrl);
    url.pathname = `/${name}`;
    const shadowPool = poolFor(url.toString());
    const adapter = charAware(await new PrismaPg(shadowPool).connect());
    const dispose = async (): Promise<void> => {
      await adapter.dispose();
      await shadowPool.end();
      await this.mainPool.query(`DROP DATABASE IF EXISTS "${name}"`);
    };
    return Object.assign(Object.create(adapter) as SqlDriverAdapter, { dispose });
  }

  end(): Promise<void> {
    return this.mainPool.end();
  }
}

// The wasm build reports a Rust panic through this global before it aborts; keep the message for the error.
const panics: string[] = [];
(globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown }).PRISMA_WASM_PANIC_REGISTRY = {
  set_message: (message: string) => panics.push(message),
};
export const lastEnginePanic = (): string | undefined => panics.at(-1);

let wasmLoaded: Promise<void> | undefined;

// The CLI's own wasm build, so the engine is exactly the one `prisma` itself would run.
function loadWasm(): Promise<void> {
  wasmLoaded ??= (async () => {
    const prismaDir = path.dirname(createRequire(import.meta.url).resolve('prisma/package.json'));
    const bytes = await readFile(path.join(prismaDir, 'build', 'schema_engine_bg.wasm'));
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
  })();
  return wasmLoaded;
}

export interface EngineSession {
  engine: SchemaEngine;
  close(): Promise<void>;
}

export async function openSchemaEngine(databaseUrl: string, schemaPath: string, log: (line: string) => void): Promise<EngineSession> {
  await loadWasm();
  const factory = new MigrationAdapterFactory(databaseUrl);
  const schemaText = await readFile(schemaPath, 'utf8');
  const engine = (await glue.SchemaEngine.new(
    { datamodels: [[schemaPath, schemaText]] },
    (line: string) => log(line),
    bindMigrationAwareSqlAdapterFactory(factory),
  )) as SchemaEngine;
  return {
    engine,
    async close() {
      engine.free();
      await factory.end();
    },
  };
}
