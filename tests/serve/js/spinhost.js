// A Spin app for tests/serve (run.sh spinhost): each path exercises one of
// the Spin host interfaces whirl serves, built with componentize-js against
// spin-wit/. Answers are text lines the test greps.
//   /var/NAME        fermyon:spin/variables get
//   /config/NAME     wasi:config/store get; /config-all  get-all
//   /config1/NAME    fermyon:spin/config get-config (Spin 1)
//   /kv/LABEL/incr   a counter in a key-value store (get, set, exists)
//   /kv/LABEL/keys   get-keys; /kv/LABEL/del/KEY  delete
//   /kv-many/LABEL   stores opened until the request's handle table is full
//   /wkv/LABEL       wasi:keyvalue: open, set, get, increment, get-many, list-keys
//   /wkv-cas/LABEL   wasi:keyvalue compare-and-swap, set-many, delete-many
//   /sql/LABEL       a table created, rows inserted with parameters of each type, queried
//   /sql3/LABEL      spin:sqlite@3.0.0: last-insert-rowid and changes
//   /llm             answered model-not-supported
//   /redis-out?ADDR  outbound Redis: get, set, incr, del, sadd, srem, smembers, publish, execute
//   /sql-escape/LABEL?PATH  ATTACH and VACUUM INTO another file (refused)
//   /mqtt-out?ADDR   outbound MQTT: two messages on whirl/test
//   /pg-out?ADDR     outbound PostgreSQL: parameters and columns of each type
//   /pg3-out?ADDR    spin:postgres@3.0.0: dates, times, timestamps
//   /pg4-out?ADDR    spin:postgres@4.0.0: uuid, jsonb, numeric, ranges, arrays, interval, errors
//   /pg42-out?ADDR   spin:postgres@4.2.0's connection-builder: the POST body, if
//                    any, its CA roots (set-ca-root); then build and ask the
//                    server whether the connection uses TLS
//   /pg-sleep?ADDR   a PostgreSQL query the test kills the server under
//   /mysql-out?ADDR  outbound MySQL: parameters and columns of each type
//   /redis-wait?ADDR a Redis BLPOP on whirl-wait that only the test's push ends
//   /mysql-sleep?ADDR  a MySQL query the test kills the server under
//   /sql-forever/LABEL  a query that never ends (the deadline must end it)
import { get as varGet } from 'fermyon:spin/variables@2.0.0';
import { Store } from 'fermyon:spin/key-value@2.0.0';
import { Connection } from 'fermyon:spin/sqlite@2.0.0';
import { Connection as Connection3 } from 'spin:sqlite/sqlite@3.0.0';
import { get as configGet, getAll as configGetAll } from 'wasi:config/store@0.2.0-draft-2024-09-27';
import { open as bucketOpen } from 'wasi:keyvalue/store@0.2.0-draft2';
import { increment, swap, Cas } from 'wasi:keyvalue/atomics@0.2.0-draft2';
import { getMany, setMany, deleteMany } from 'wasi:keyvalue/batch@0.2.0-draft2';
import { infer } from 'fermyon:spin/llm@2.0.0';
import { Connection as RedisConnection } from 'fermyon:spin/redis@2.0.0';
import { Connection as MqttConnection } from 'fermyon:spin/mqtt@2.0.0';
import { Connection as PgConnection } from 'fermyon:spin/postgres@2.0.0';
import { Connection as MysqlConnection } from 'fermyon:spin/mysql@2.0.0';
import { Connection as Pg3Connection } from 'spin:postgres/postgres@3.0.0';
import { Connection as Pg4Connection } from 'spin:postgres/postgres@4.0.0';
import { ConnectionBuilder as Pg42Builder } from 'spin:postgres/postgres@4.2.0';
import { getConfig } from 'fermyon:spin/config';

addEventListener('fetch', (event) => event.respondWith(handle(event.request)));

function why(e) {
  if (e && e.payload !== undefined) return 'error ' + JSON.stringify(e.payload, (k, v) => typeof v === 'bigint' ? v.toString() : v);
  return 'exception ' + String(e);
}

// The query string, as curl --data-urlencode writes it ('+' for a space).
function query(req) {
  return decodeURIComponent(new URL(req.url).search.slice(1).replace(/\+/g, ' '));
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function show(v) {
  if (v.tag === 'blob') return `blob:${Array.from(v.val).join(',')}`;
  if (v.tag === 'null') return 'null';
  return `${v.tag}:${typeof v.val}:${v.val}`;
}

async function handle(req) {
  const parts = new URL(req.url).pathname.split('/').filter((p) => p);
  if (parts[0] === 'narrow') parts.shift(); // the second component's route
  let out = '';
  try {
    if (parts[0] === 'var') {
      out = `value=${varGet(parts[1] ?? '')}\n`;
    } else if (parts[0] === 'config') {
      const v = configGet(parts[1] ?? '');
      out = v === undefined ? 'none\n' : `value=${v}\n`;
    } else if (parts[0] === 'config1') {
      out = `value=${getConfig(parts[1] ?? '')}\n`;
    } else if (parts[0] === 'config-all') {
      for (const [k, v] of configGetAll()) out += `${k}=${v}\n`;
    } else if (parts[0] === 'kv') {
      const store = Store.open(parts[1]);
      if (parts[2] === 'incr') {
        const old = store.get('counter');
        const n = old === undefined ? 1 : Number(dec.decode(old)) + 1;
        store.set('counter', enc.encode(String(n)));
        out = `counter=${n}\nexists=${store.exists('counter')}\nmissing=${store.get('no-such-key') === undefined}\n`;
      } else if (parts[2] === 'keys') {
        store.set('k1', new Uint8Array([0, 255, 7]));
        const raw = store.get('k1');
        out = `keys=${store.getKeys().sort().join(',')}\nk1=${Array.from(raw).join(',')}\n`;
      } else if (parts[2] === 'del') {
        store.delete(parts[3]);
        out = `deleted=${parts[3]}\nexists=${store.exists(parts[3])}\n`;
      }
    } else if (parts[0] === 'kv-many') {
      // Stores opened and kept until the handle table is full.
      const kept = [];
      try {
        for (let i = 0; i < 1000; i++) kept.push(Store.open(parts[1]));
        out = `opened=${kept.length}\n`;
      } catch (e) {
        out = `opened=${kept.length} then ${why(e)}\n`;
      }
    } else if (parts[0] === 'wkv') {
      const b = bucketOpen(parts[1]);
      b.set('w1', enc.encode('one'));
      const n1 = increment(b, 'hits', 5n);
      const n2 = increment(b, 'hits', 2n);
      const many = getMany(b, ['w1', 'absent']);
      const page = b.listKeys(undefined);
      out = `w1=${dec.decode(b.get('w1'))}\nhits=${n1},${n2}\n` +
        `many=${many.map(([k, v]) => `${k}:${v === undefined ? 'none' : dec.decode(v)}`).join(',')}\n` +
        `list=${page.keys.sort().join(',')} cursor=${page.cursor === undefined ? 'none' : page.cursor}\n`;
    } else if (parts[0] === 'wkv-cas') {
      // compare-and-swap and the batch writes.
      const b = bucketOpen(parts[1]);
      deleteMany(b, ['c1']);
      const cas = Cas.new(b, 'c1');
      out += `current=${cas.current() === undefined ? 'none' : 'some'}\n`;
      swap(cas, enc.encode('v1'));
      out += `swapped=${dec.decode(b.get('c1'))}\n`;
      const cas2 = Cas.new(b, 'c1');
      b.set('c1', enc.encode('changed'));
      try {
        swap(cas2, enc.encode('v2'));
        out += 'second swap: done\n';
      } catch (e) {
        out += `second swap: ${e.payload ? e.payload.tag : e}\n`;
        if (e.payload && e.payload.tag === 'cas-failed') {
          out += `retry sees=${dec.decode(e.payload.val.current())}\n`;
          swap(e.payload.val, enc.encode('v3'));
        }
      }
      out += `final=${dec.decode(b.get('c1'))}\n`;
      setMany(b, [['m1', enc.encode('1')], ['m2', enc.encode('2')]]);
      const got = getMany(b, ['m1', 'm2']);
      deleteMany(b, ['m1', 'm2']);
      out += `set-many=${got.map(([k, v]) => k + ':' + dec.decode(v)).join(',')} after delete-many=${b.exists('m1')},${b.exists('m2')}\n`;
    } else if (parts[0] === 'sql') {
      const db = Connection.open(parts[1]);
      db.execute('CREATE TABLE IF NOT EXISTS t (i INTEGER, r REAL, s TEXT, b BLOB, n)', []);
      db.execute('DELETE FROM t', []);
      db.execute('INSERT INTO t VALUES (?, ?, ?, ?, ?)', [
        { tag: 'integer', val: -9007199254740993n },
        { tag: 'real', val: 2.5 },
        { tag: 'text', val: 'héllo' },
        { tag: 'blob', val: new Uint8Array([1, 0, 2]) },
        { tag: 'null' },
      ]);
      db.execute('INSERT INTO t (i, s) VALUES (?1, ?2)', [
        { tag: 'integer', val: 7n }, { tag: 'text', val: "it's" }]);
      const res = db.execute('SELECT i, r, s, b, n FROM t WHERE i < ? ORDER BY i', [
        { tag: 'integer', val: 100n }]);
      out = `columns=${res.columns.join(',')}\n`;
      for (const row of res.rows) out += `row=${row.values.map(show).join(' ')}\n`;
      try {
        db.execute('SELECT * FROM no_such_table', []);
      } catch (e) {
        out += `bad sql: ${why(e)}\n`;
      }
    } else if (parts[0] === 'sql-forever') {
      const db = Connection.open(parts[1]);
      console.error('started endless query'); // the test waits for this line
      db.execute('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c', []);
      out = 'endless query ended\n';
    } else if (parts[0] === 'llm') {
      out = `text=${infer('llama2-chat', 'hello', undefined).text}\n`;
    } else if (parts[0] === 'redis-out') {
      const r = RedisConnection.open(query(req));
      r.set('rk', enc.encode('rv'));
      out += `get=${dec.decode(r.get('rk'))} missing=${r.get('no-such') === undefined}\n`;
      out += `incr=${r.incr('rn')},${r.incr('rn')}\n`;
      out += `sadd=${r.sadd('rs', ['a', 'b', 'c'])} srem=${r.srem('rs', ['b'])} smembers=${r.smembers('rs').sort().join(',')}\n`;
      out += `del=${r.del(['rk', 'rn', 'absent'])}\n`;
      r.publish('chan', enc.encode('hello'));
      const res = r.execute('HSET', [{ tag: 'binary', val: enc.encode('h') }, { tag: 'binary', val: enc.encode('f') }, { tag: 'int64', val: 42n }]);
      const got = r.execute('HGET', [{ tag: 'binary', val: enc.encode('h') }, { tag: 'binary', val: enc.encode('f') }]);
      const st = r.execute('PING', []);
      out += `execute=${res.map((x) => x.tag + ':' + x.val).join(',')} ${got.map((x) => x.tag + ':' + dec.decode(x.val)).join(',')} ${st.map((x) => x.tag + ':' + x.val).join(',')}\n`;
      try {
        r.get('rs');
      } catch (e) {
        out += `wrong type: ${why(e)}\n`;
      }
    } else if (parts[0] === 'sql-escape') {
      // Another file on the host, through ATTACH or VACUUM INTO: refused.
      const db = Connection.open(parts[1]);
      const target = query(req);
      for (const sql of [`ATTACH '${target}' AS other`, `VACUUM INTO '${target}'`]) {
        try {
          db.execute(sql, []);
          out += `${sql.split(' ')[0]}: allowed\n`;
        } catch (e) {
          out += `${sql.split(' ')[0]}: ${why(e)}\n`;
        }
      }
    } else if (parts[0] === 'mqtt-out') {
      // ?ADDRESS: two messages on topic whirl/test, QoS 1 and QoS 0.
      const m = MqttConnection.open(query(req), '', '', 30n);
      m.publish('whirl/test', enc.encode('hello over mqtt'), 'at-least-once');
      m.publish('whirl/test', enc.encode('second, qos 0'), 'at-most-once');
      out = 'published\n';
    } else if (parts[0] === 'pg-out') {
      // ?ADDRESS: a table with a column of each type, parameters of every case.
      const pg = PgConnection.open(query(req));
      pg.execute('DROP TABLE IF EXISTS pt', []);
      pg.execute('CREATE TABLE pt (b boolean, i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision, s text, bin bytea, n integer)', []);
      const n1 = pg.execute('INSERT INTO pt VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
        { tag: 'boolean', val: true }, { tag: 'int16', val: -7 }, { tag: 'int32', val: 123456 },
        { tag: 'int64', val: -9007199254740993n }, { tag: 'floating32', val: 1.5 },
        { tag: 'floating64', val: 2.25 }, { tag: 'str', val: 'héllo' },
        { tag: 'binary', val: new Uint8Array([0, 1, 255]) }, { tag: 'db-null' }]);
      const n2 = pg.execute('INSERT INTO pt (b, i2, i4, i8) VALUES ($1, $2, $3, $4), ($5, $6, $7, $8)', [
        { tag: 'boolean', val: false }, { tag: 'int8', val: -5 }, { tag: 'uint16', val: 6 }, { tag: 'uint64', val: 8n },
        { tag: 'boolean', val: false }, { tag: 'uint8', val: 9 }, { tag: 'uint32', val: 10 }, { tag: 'int32', val: 11 }]);
      out += `inserted=${n1},${n2}\n`;
      const rs = pg.query('SELECT * FROM pt WHERE i2 <> $1 ORDER BY i4', [{ tag: 'int32', val: 0 }]);
      out += `columns=${rs.columns.map((c) => c.name + ':' + c.dataType).join(',')}\n`;
      for (const row of rs.rows) {
        out += `row=${row.map((v) => v.tag === 'binary' ? 'binary:' + Array.from(v.val).join('.') : v.val === undefined ? v.tag : v.tag + ':' + v.val).join(' ')}\n`;
      }
      try {
        pg.query('SELECT * FROM no_such_table', []);
      } catch (e) {
        out += `bad sql: ${why(e)}\n`;
      }
    } else if (parts[0] === 'pg3-out') {
      // ?ADDRESS: spin:postgres@3.0.0's dates, times and timestamps.
      const pg = Pg3Connection.open(query(req));
      pg.execute('DROP TABLE IF EXISTS pt3', []);
      pg.execute('CREATE TABLE pt3 (d date, t time, dt timestamp, ts timestamptz, i integer)', []);
      const n = pg.execute('INSERT INTO pt3 VALUES ($1, $2, $3, $4, $5)', [
        { tag: 'date', val: [2024, 2, 29] }, { tag: 'time', val: [23, 59, 58, 123456000] },
        { tag: 'datetime', val: [1999, 12, 31, 12, 30, 15, 500000000] },
        { tag: 'timestamp', val: 1700000000n }, { tag: 'int32', val: 7 }]);
      const rs = pg.query('SELECT * FROM pt3', []);
      out += `inserted=${n}\ncolumns=${rs.columns.map((c) => c.name + ':' + c.dataType).join(',')}\n`;
      for (const row of rs.rows) {
        out += `row=${row.map((v) => v.tag + ':' + (Array.isArray(v.val) ? v.val.join('/') : v.val)).join(' ')}\n`;
      }
    } else if (parts[0] === 'pg4-out') {
      // ?ADDRESS: spin:postgres@4.0.0's cases beyond 3.0.0, each written
      // and read back, a type it has no case for, and the server's errors.
      const pg = Pg4Connection.open(query(req));
      pg.execute('DROP TABLE IF EXISTS pt4', []);
      pg.execute('CREATE TABLE pt4 (u uuid, j jsonb, d numeric, r4 int4range, r8 int8range, rn numrange, a4 int4[], a8 int8[], ad numeric[], at text[], iv interval, x point)', []);
      const n = pg.execute('INSERT INTO pt4 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, point(1, 2))', [
        { tag: 'uuid', val: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' },
        { tag: 'jsonb', val: enc.encode('{"a":[1,2]}') },
        { tag: 'decimal', val: '12345.678901234567890' },
        { tag: 'range-int32', val: [[1, 'inclusive'], [5, 'exclusive']] },
        { tag: 'range-int64', val: [undefined, [9007199254740993n, 'inclusive']] },
        { tag: 'range-decimal', val: [['1.5', 'exclusive'], undefined] },
        { tag: 'array-int32', val: [1, undefined, -3] },
        { tag: 'array-int64', val: [9007199254740993n] },
        { tag: 'array-decimal', val: ['1.25', undefined] },
        { tag: 'array-str', val: ['a "quoted", word\\', undefined, 'NULL', ''] },
        { tag: 'interval', val: { micros: 3723000004n, days: -2, months: 14 } }]);
      const rs = pg.query('SELECT * FROM pt4', []);
      const json = (v) => JSON.stringify(v, (k, x) => typeof x === 'bigint' ? x.toString()
        : ArrayBuffer.isView(x) ? dec.decode(x) : x === undefined ? null : x);
      out += `inserted=${n}\ncolumns=${rs.columns.map((c) => c.name + ':' + c.dataType.tag + (c.dataType.val ? '(' + c.dataType.val + ')' : '')).join(',')}\n`;
      for (const row of rs.rows) {
        for (const v of row) out += `value=${v.tag}:${json(v.val)}\n`;
      }
      for (const [name, sql, params] of [['division', 'SELECT 1/0', []],
        ['bad uuid', 'SELECT $1::uuid', [{ tag: 'uuid', val: 'not-a-uuid' }]],
        ['no table', 'SELECT * FROM no_such_table', []]]) {
        try {
          pg.query(sql, params);
          out += `${name}: no error\n`;
        } catch (e) {
          const p = e.payload;
          const d = p.val && p.val.val;
          out += `${name}: ${p.tag} ${p.val.tag} code=${d.code} severity=${d.severity} message=${d.message} extras=${json(d.extras)}\n`;
        }
      }
    } else if (parts[0] === 'pg42-out') {
      const builder = new Pg42Builder(query(req));
      const ca = await req.text();
      if (ca) builder.setCaRoot(ca);
      const pg = builder.build();
      const rs = pg.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', []);
      out += `ssl=${rs.rows[0][0].val}\n`;
    } else if (parts[0] === 'pg-sleep') {
      // ?ADDRESS: a query the test ends by stopping the server under it.
      const pg = PgConnection.open(query(req));
      console.error('started pg sleep'); // the test waits for this line
      try {
        pg.query('SELECT pg_sleep(60)', []);
        out = 'slept\n';
      } catch (e) {
        out = `pg died: ${why(e)}\n`;
      }
    } else if (parts[0] === 'redis-wait') {
      // ?ADDRESS: waits on the server until the test pushes to the list.
      const r = RedisConnection.open(query(req));
      console.error('started redis wait'); // the test waits for this line
      try {
        const got = r.execute('BLPOP', [{ tag: 'binary', val: enc.encode('whirl-wait') }, { tag: 'int64', val: 0n }]);
        out = `popped=${got.map((x) => x.tag === 'binary' ? dec.decode(x.val) : x.tag).join(',')}\n`;
      } catch (e) {
        out = `redis wait: ${why(e)}\n`;
      }
    } else if (parts[0] === 'mysql-sleep') {
      // ?ADDRESS: a query the test ends by stopping the server under it.
      const my = MysqlConnection.open(query(req));
      console.error('started mysql sleep'); // the test waits for this line
      try {
        my.query('SELECT SLEEP(60)', []);
        out = 'slept\n';
      } catch (e) {
        out = `mysql died: ${why(e)}\n`;
      }
    } else if (parts[0] === 'mysql-out') {
      const my = MysqlConnection.open(query(req));
      my.execute('DROP TABLE IF EXISTS whirl_t', []);
      my.execute('CREATE TABLE whirl_t (b BOOLEAN, i1 TINYINT, u2 SMALLINT UNSIGNED, i4 INT, i8 BIGINT, f4 FLOAT, f8 DOUBLE, s VARCHAR(20), bin VARBINARY(10), n INT)', []);
      my.execute('INSERT INTO whirl_t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        { tag: 'boolean', val: true }, { tag: 'int8', val: -5 }, { tag: 'uint16', val: 65535 },
        { tag: 'int32', val: -123456 }, { tag: 'int64', val: -9007199254740993n },
        { tag: 'floating32', val: 1.5 }, { tag: 'floating64', val: 2.25 }, { tag: 'str', val: 'héllo' },
        { tag: 'binary', val: new Uint8Array([0, 1, 255]) }, { tag: 'db-null' }]);
      const rs = my.query('SELECT * FROM whirl_t WHERE i4 < ?', [{ tag: 'uint64', val: 10n }]);
      out += `columns=${rs.columns.map((c) => c.name + ':' + c.dataType).join(',')}\n`;
      for (const row of rs.rows) {
        out += `row=${row.map((v) => v.tag === 'binary' ? 'binary:' + Array.from(v.val).join('.') : v.val === undefined ? v.tag : v.tag + ':' + v.val).join(' ')}\n`;
      }
      try {
        my.query('SELECT * FROM no_such_table', []);
      } catch (e) {
        out += `bad sql: ${why(e)}\n`;
      }
    } else if (parts[0] === 'sql3') {
      const db = Connection3.open(parts[1]);
      db.execute('CREATE TABLE IF NOT EXISTS t3 (id INTEGER PRIMARY KEY, v TEXT)', []);
      db.execute('INSERT INTO t3 (v) VALUES (?), (?)', [{ tag: 'text', val: 'a' }, { tag: 'text', val: 'b' }]);
      out = `changes=${db.changes()}\nrowid=${db.lastInsertRowid() > 0n}\n`;
    } else {
      return new Response('no such test\n', { status: 404 });
    }
  } catch (e) {
    out += `${why(e)}\n`;
  }
  return new Response(out);
}
