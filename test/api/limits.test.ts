// What the server does with requests that are not Neutron requests at all: bodies over the size limit (oslo's
// max_request_body_size: 413 in Neutron's shape, and the answer reaches the client), paths and query strings that do
// not percent-decode, JSON nested past any Neutron body, values a store cannot hold. Nothing is stored by any of them.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { startApi, type Api } from '../helpers/v6stack.js';

/** A raw request (fetch would refuse some of these paths), optionally streamed without a Content-Length. */
function raw(api: Api, method: string, path: string, body?: Buffer, chunked = false): Promise<{ status: number; body: any }> {
  const url = new URL(api.url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'Content-Type': 'application/json' };
    if (body && !chunked) headers['Content-Length'] = body.length;
    const req = httpRequest({ host: '::1', port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
    });
    req.on('error', reject);
    if (body && chunked) {
      for (let i = 0; i < body.length; i += 65_536) req.write(body.subarray(i, i + 65_536));
      req.end();
    } else req.end(body);
  });
}

const fault = (type: string, message: string) => ({ NeutronError: { type, message, detail: '' } });

describe('requests that are not Neutron requests', () => {
  let api: Api;
  let small: Api;

  before(async () => {
    api = await startApi('sqlite');
    small = await startApi('sqlite', { maxRequestBodySize: 1024 });
  });
  after(async () => {
    await api.close();
    await small.close();
  });

  it("answers a body over max_request_body_size with oslo's 413, declared or streamed, and reads it to the end", async () => {
    const big = Buffer.from(JSON.stringify({ network: { name: 'x'.repeat(20 * 1024 * 1024) } }));
    const declared = await raw(api, 'POST', '/v2.0/networks', big);
    assert.equal(declared.status, 413);
    assert.deepEqual(declared.body, fault('HTTPRequestEntityTooLarge', 'Request is too large. Larger than max_request_body_size (114688).'));
    const streamed = await raw(api, 'POST', '/v2.0/networks', big, true);
    assert.equal(streamed.status, 413);
    assert.deepEqual(streamed.body, fault('HTTPRequestEntityTooLarge', 'Request is too large.'));
    // The limit is the server's setting (`--max-request-body-size`).
    const limited = await raw(small, 'POST', '/v2.0/networks', Buffer.from(JSON.stringify({ network: { name: 'x'.repeat(1100) } })));
    assert.deepEqual(limited.body, fault('HTTPRequestEntityTooLarge', 'Request is too large. Larger than max_request_body_size (1024).'));
    assert.equal((await small.request('POST', '/v2.0/networks', { network: { name: 'fits' } })).status, 201);
    assert.equal((await api.request('GET', '/v2.0/networks')).body.networks.length, 0);
  });

  it('answers paths and query strings that do not percent-decode with 400', async () => {
    for (const path of ['/v2.0/networks/%', '/v2.0/networks/%zz', '/v2.0/%E0%A4%A', '/v2.0/networks?name=%zz', '/v2.0/networks?%=1']) {
      const r = await raw(api, 'GET', path);
      assert.equal(r.status, 400, path);
      assert.equal(r.body.NeutronError.type, 'HTTPBadRequest', path);
    }
    // A well-formed escape of something no store holds names nothing.
    assert.equal((await raw(api, 'GET', '/v2.0/networks/%00')).status, 404);
    assert.equal((await raw(api, 'GET', '/v2.0/networks?name=%00')).status, 400);
  });

  it('refuses nested ids, deep JSON and unstorable strings without storing anything', async () => {
    const net = (await api.request('POST', '/v2.0/networks', { network: { name: 'n' } })).body.network.id;
    for (const network_id of [[net], { id: net }, {}, 5, null]) {
      const r = await api.request('POST', '/v2.0/subnets', { subnet: { network_id, ip_version: 6, cidr: '2001:db8::/64' } });
      assert.equal(r.status, 400, JSON.stringify(network_id));
    }
    assert.equal((await api.request('POST', '/v2.0/networks', `{"network": {"name": ${'['.repeat(100)}${']'.repeat(100)}}}`)).status, 400);
    assert.equal((await api.request('POST', '/v2.0/networks', { network: { name: 'a\u0000b' } })).status, 400);
    assert.equal((await api.request('POST', '/v2.0/networks', { network: { name: 'n' } }, { 'X-Project-Id': 'p'.repeat(300) })).status, 400);
    assert.equal((await api.request('GET', '/v2.0/subnets')).body.subnets.length, 0);
    assert.equal((await api.request('GET', '/v2.0/networks')).body.networks.length, 1);
  });
});
