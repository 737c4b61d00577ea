// serve/spinsdk: a Spin app written against @fermyon/spin-sdk, the way
// Spin's http-js template writes one (itty-router, the fetch event). Each
// route uses one Spin interface through the SDK and answers plain lines that
// spin_sdk.sh checks.
import { Router } from 'itty-router';
import { Kv, Variables, Sqlite, Redis, Postgres, Mysql, Mqtt } from '@fermyon/spin-sdk';

const enc = new TextEncoder();
const dec = new TextDecoder();
const router = Router();

// The SDK throws the interface's error variant as the error's payload. Its
// parameter helpers pass any object through as an already tagged value, so
// byte arrays and nulls go in tagged.
const failure = (e) => `error ${JSON.stringify(e.payload ?? String(e))}\n`;
const show = (v) => (v instanceof Uint8Array ? `bytes:${Array.from(v).join('.')}`
    : v === null || v === undefined ? 'null' : `${typeof v}:${v}`);
const target = (request) => decodeURIComponent(new URL(request.url).search.slice(1).replace(/\+/g, ' '));

router.get('/kv/incr', () => {
    const store = Kv.openDefault();
    const n = (store.exists('counter') ? store.getJson('counter').n : 0) + 1;
    store.setJson('counter', { n });
    store.set('raw', 'text');
    return new Response(`counter=${n}\nraw=${dec.decode(store.get('raw'))}\n` +
        `missing=${store.get('nope') == null}\nkeys=${store.getKeys().sort().join(',')}\n`);
});
router.get('/kv/open/:name', ({ params }) => {
    try {
        Kv.open(params.name);
        return new Response('opened\n');
    } catch (e) {
        return new Response(failure(e));
    }
});
router.get('/var/:name', ({ params }) => {
    try {
        return new Response(`value=${Variables.get(params.name)}\n`);
    } catch (e) {
        return new Response(failure(e));
    }
});
router.get('/sql', () => {
    const db = Sqlite.openDefault();
    db.execute('CREATE TABLE IF NOT EXISTS t (i INTEGER, r REAL, s TEXT, b BLOB, n)', []);
    db.execute('DELETE FROM t', []);
    db.execute('INSERT INTO t VALUES (?, ?, ?, ?, ?)',
        [-9007199254740993n, 2.5, 'héllo', { tag: 'blob', val: new Uint8Array([1, 0, 2]) },
            { tag: 'null' }]);
    const r = db.execute('SELECT i, r, s, b, n FROM t', []);
    let out = `columns=${r.columns.join(',')}\n`;
    for (const row of r.rows)
        out += `row=${r.columns.map((c) => show(row[c])).join(' ')}\n`;
    try {
        db.execute('SELECT * FROM no_such_table', []);
    } catch (e) {
        out += `bad sql: ${failure(e)}`;
    }
    return new Response(out);
});
router.get('/redis', (request) => {
    try {
        const redis = Redis.open(target(request));
        redis.set('sdk-key', enc.encode('sdk-value'));
        const got = dec.decode(redis.get('sdk-key'));
        redis.del('sdk-n');
        const n = [redis.incr('sdk-n'), redis.incr('sdk-n')].join(',');
        redis.publish('sdk-channel', enc.encode('hello from the sdk'));
        redis.sadd('sdk-set', ['a', 'b']);
        const members = redis.smembers('sdk-set').sort().join(',');
        return new Response(`get=${got}\nincr=${n}\nsmembers=${members}\npublished\n`);
    } catch (e) {
        return new Response(failure(e));
    }
});
// Parameters of each type the SDK passes (its helper maps plain JS values;
// tagged values go through as they are), read back by a query.
const rdbms = (open, ddl) => (request) => {
    try {
        const db = open(target(request));
        db.execute('DROP TABLE IF EXISTS sdk_t', []);
        db.execute(ddl, []);
        const n = db.execute('INSERT INTO sdk_t VALUES ($1, $2, $3, $4, $5, $6, $7, $8)'
            .replace(/\$\d/g, open === Mysql.open ? '?' : (m) => m),
            [true, 42, -9007199254740993n, 2.25, 'héllo', { tag: 'binary', val: new Uint8Array([0, 1, 255]) },
                { tag: 'int16', val: -7 }, { tag: 'db-null' }]);
        const r = db.query('SELECT * FROM sdk_t WHERE i4 = $1'
            .replace('$1', open === Mysql.open ? '?' : '$1'), [42]);
        // mysql@2.0.0's execute returns nothing, postgres's the row count.
        let out = `inserted=${n ?? 'ok'}\ncolumns=${r.columns.map((c) => c.name).join(',')}\n`;
        for (const row of r.rows)
            out += `row=${r.columns.map((c) => show(row[c.name])).join(' ')}\n`;
        try {
            db.query('SELECT * FROM no_such_table', []);
        } catch (e) {
            out += `bad sql: ${failure(e)}`;
        }
        return new Response(out);
    } catch (e) {
        return new Response(failure(e));
    }
};
router.get('/pg', rdbms(Postgres.open, 'CREATE TABLE sdk_t (b BOOLEAN, i4 INTEGER, i8 BIGINT, ' +
    'f8 DOUBLE PRECISION, s TEXT, bin BYTEA, i2 SMALLINT, n INTEGER)'));
router.get('/mysql', rdbms(Mysql.open, 'CREATE TABLE sdk_t (b BOOLEAN, i4 INT, i8 BIGINT, ' +
    'f8 DOUBLE, s TEXT, bin BLOB, i2 SMALLINT, n INT)'));
router.get('/mqtt', (request) => {
    try {
        const mqtt = Mqtt.open(target(request), '', '', 30);
        mqtt.publish('whirl/sdk', enc.encode('hello from the sdk'), Mqtt.QoS.AtLeastOnce);
        return new Response('published\n');
    } catch (e) {
        return new Response(failure(e));
    }
});
router.all('*', () => new Response('no such route\n', { status: 404 }));

addEventListener('fetch', (event) => event.respondWith(router.handle(event.request)));
