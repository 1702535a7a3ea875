'use strict';
/*
 * Drives the official ASK SDK for Node.js persistence adapters for the differential tests.
 *
 * A long-lived process: one JSON request per line on stdin, one JSON answer per line on stdout,
 * in order. Started by tests/src/differential/driver.rs with NODE_PATH set to the node_modules
 * that scripts/official-sdks.sh installs (ask-sdk-core, ask-sdk-dynamodb-persistence-adapter and
 * ask-sdk-s3-persistence-adapter 2.14.0, aws-sdk 2, pinned by package-lock.json beside this
 * file). Reads AWS_ENDPOINT_URL, AWS_REGION and the credentials from the environment.
 *
 * The requests and answers are those of tests/differential/python/driver.py (see there):
 * ops save, get, delete, update (get, set one top-level attribute, save) and hello; a store is
 * {"kind": "dynamodb", "table", "partition_key_name", "attributes_name"} or
 * {"kind": "s3", "bucket", "path_prefix"}; the adapters key by the request envelope's user ID.
 *
 * Tagged values, for the types the Node adapters really hand to a skill and take from it:
 *   {"$decimal": "0.25"}        in: a JavaScript number (Number(text): Node has no decimal type,
 *                               so 38 digits or an integer past 2^53 are rounded, as a skill
 *                               would round them); out: never (numbers go out as JSON numbers)
 *   {"$ss": [...]}, {"$ns": ["1", "2.5"]}
 *                               a DocumentClient set (createSet) of strings / numbers; out:
 *                               sorted, numbers as String(n)
 *   {"$bytes": "<base64>"}, {"$bs": [...]}   a Buffer, a set of them
 * Everything else is plain JSON (JSON.stringify's spelling of numbers).
 */

const readline = require('readline');
const AWS = require('aws-sdk');
const { DynamoDbPersistenceAdapter } = require('ask-sdk-dynamodb-persistence-adapter');
const { S3PersistenceAdapter } = require('ask-sdk-s3-persistence-adapter');

const endpoint = process.env.AWS_ENDPOINT_URL;
const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1';
const common = { endpoint, region, maxRetries: 3, httpOptions: { connectTimeout: 5000, timeout: 30000 } };
const dynamodb = new AWS.DynamoDB(common);
const s3 = new AWS.S3({ ...common, s3ForcePathStyle: true });
const documentClient = new AWS.DynamoDB.DocumentClient({ service: dynamodb });
const adapters = new Map();

function version(pkg) {
  return require(`${pkg}/package.json`).version;
}

/** The official adapter for a store description, built once per description. */
function adapter(store) {
  const key = JSON.stringify(store);
  if (!adapters.has(key)) {
    if (store.kind === 'dynamodb') {
      adapters.set(key, new DynamoDbPersistenceAdapter({
        tableName: store.table,
        partitionKeyName: store.partition_key_name || 'id',
        attributesName: store.attributes_name || 'attributes',
        dynamoDBClient: dynamodb,
      }));
    } else if (store.kind === 's3') {
      adapters.set(key, new S3PersistenceAdapter({
        bucketName: store.bucket,
        pathPrefix: store.path_prefix === null ? undefined : store.path_prefix,
        s3Client: s3,
      }));
    } else {
      throw new Error(`unknown store kind ${store.kind}`);
    }
  }
  return adapters.get(key);
}

/** A request envelope whose user ID is the key (what the default key generators read). */
function envelope(userId) {
  return { context: { System: { user: { userId } } } };
}

const isTag = (v, tag) => v !== null && typeof v === 'object' && !Array.isArray(v)
  && Object.keys(v).length === 1 && Object.prototype.hasOwnProperty.call(v, tag);

/** Tagged JSON -> the JavaScript value a skill would hold. */
function decode(v) {
  if (Array.isArray(v)) return v.map(decode);
  if (v === null || typeof v !== 'object') return v;
  if (isTag(v, '$decimal')) return Number(v.$decimal);
  if (isTag(v, '$ss')) return documentClient.createSet(v.$ss);
  if (isTag(v, '$ns')) return documentClient.createSet(v.$ns.map(Number));
  if (isTag(v, '$bytes')) return Buffer.from(v.$bytes, 'base64');
  if (isTag(v, '$bs')) return documentClient.createSet(v.$bs.map((b) => Buffer.from(b, 'base64')));
  const out = {};
  for (const [k, x] of Object.entries(v)) out[k] = decode(x);
  return out;
}

/** What the adapter handed back -> tagged JSON (keeping set vs array). */
function encode(v) {
  if (v === undefined) return null;
  if (Array.isArray(v)) return v.map(encode);
  if (Buffer.isBuffer(v)) return { $bytes: v.toString('base64') };
  if (v === null || typeof v !== 'object') return v;
  if (v.wrapperName === 'Set') {
    if (v.type === 'String') return { $ss: [...v.values].sort() };
    if (v.type === 'Number') return { $ns: [...v.values].sort((a, b) => a - b).map(String) };
    return { $bs: v.values.map((b) => b.toString('base64')).sort() };
  }
  const out = {};
  for (const [k, x] of Object.entries(v)) out[k] = encode(x);
  return out;
}

async function handle(req) {
  if (req.op === 'hello') {
    const sdk = ['ask-sdk-core', 'ask-sdk-dynamodb-persistence-adapter', 'ask-sdk-s3-persistence-adapter', 'aws-sdk']
      .map((p) => `${p} ${version(p)}`).join(', ');
    return { ok: true, sdk: `ask-sdk-nodejs: ${sdk}; node ${process.version}` };
  }
  const a = adapter(req.store);
  const env = envelope(req.user_id);
  switch (req.op) {
    case 'save':
      await a.saveAttributes(env, decode(req.attributes));
      return { ok: true };
    case 'get':
      return { ok: true, attributes: encode(await a.getAttributes(env)) };
    case 'delete':
      await a.deleteAttributes(env);
      return { ok: true };
    case 'update': {
      const attrs = await a.getAttributes(env);
      const read = encode(attrs);
      attrs[req.name] = decode(req.value);
      await a.saveAttributes(env, attrs);
      return { ok: true, attributes: read };
    }
    default:
      throw new Error(`unknown op ${req.op}`);
  }
}

async function main() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let answer;
    try {
      answer = await handle(JSON.parse(line));
    } catch (e) {
      answer = { ok: false, error: `${e.name}: ${e.message}` };
    }
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  }
}

main();
