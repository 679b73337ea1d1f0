/**
 * A software WebAuthn authenticator for tests: a P-256 key pair (node:crypto) and the bytes a browser
 * and an authenticator would produce, built by hand (WebAuthn §6.1, §6.5, §7): clientDataJSON,
 * authenticatorData (rpIdHash ‖ flags ‖ signCount ‖ attested credential data), a `none` attestation
 * object, and an ES256 signature over authenticatorData ‖ SHA-256(clientDataJSON). Every field a test
 * may want wrong can be set: origin, RP ID, user verification, challenge, counter.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

export interface CeremonyOverrides {
  /** The origin the "browser" writes into clientDataJSON; default the authenticator's. */
  readonly origin?: string;
  /** The RP ID whose hash goes into authenticatorData; default the authenticator's. */
  readonly rpId?: string;
  /** Whether the user was verified (UV flag); default true. */
  readonly userVerified?: boolean;
  /** The challenge written into clientDataJSON instead of the one asked for (base64url). */
  readonly challenge?: string;
  /** The signature counter to report; default one more than the last. */
  readonly counter?: number;
}

export interface SoftAuthenticator {
  readonly credentialId: string;
  readonly privateKey: KeyObject;
  readonly rpId: string;
  readonly origin: string;
  /** navigator.credentials.create(), as @simplewebauthn/browser would send it. */
  register(challenge: string, o?: CeremonyOverrides): RegistrationResponseJSON;
  /** navigator.credentials.get() over `challenge` (base64url), as @simplewebauthn/browser would send it. */
  assert(challenge: string, o?: CeremonyOverrides): AuthenticationResponseJSON;
}

const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();
const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

function authData(rpId: string, flags: number, counter: number, attested?: Buffer): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(counter);
  return Buffer.concat([sha256(rpId), Buffer.from([flags]), count, ...(attested ? [attested] : [])]);
}

export function createSoftAuthenticator(opts: { rpId: string; origin: string }): SoftAuthenticator {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const credential = randomBytes(16);
  const credentialId = b64url(credential);
  const jwk = publicKey.export({ format: 'jwk' });
  // COSE_Key (RFC 9053): kty EC2, alg ES256, crv P-256, x, y.
  const coseKey = isoCBOR.encode(
    new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x!, 'base64url')],
      [-3, Buffer.from(jwk.y!, 'base64url')],
    ]),
  );
  let counter = 0;
  const flags = (o: CeremonyOverrides) => FLAG_UP | (o.userVerified === false ? 0 : FLAG_UV);
  const clientData = (type: string, challenge: string, o: CeremonyOverrides) =>
    Buffer.from(JSON.stringify({ type, challenge: o.challenge ?? challenge, origin: o.origin ?? opts.origin, crossOrigin: false }), 'utf8');

  return {
    credentialId,
    privateKey,
    rpId: opts.rpId,
    origin: opts.origin,
    register(challenge, o = {}) {
      const idLength = Buffer.alloc(2);
      idLength.writeUInt16BE(credential.length);
      const attested = Buffer.concat([Buffer.alloc(16), idLength, credential, Buffer.from(coseKey)]);
      const data = authData(o.rpId ?? opts.rpId, flags(o) | FLAG_AT, o.counter ?? counter, attested);
      const attestationObject = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', data]]) as never);
      return {
        id: credentialId,
        rawId: credentialId,
        type: 'public-key',
        clientExtensionResults: {},
        response: {
          clientDataJSON: b64url(clientData('webauthn.create', challenge, o)),
          attestationObject: b64url(attestationObject),
          transports: ['internal'],
        },
      };
    },
    assert(challenge, o = {}) {
      counter = o.counter ?? counter + 1;
      const data = authData(o.rpId ?? opts.rpId, flags(o), counter);
      const client = clientData('webauthn.get', challenge, o);
      const signature = sign('sha256', Buffer.concat([data, sha256(client)]), privateKey);
      return {
        id: credentialId,
        rawId: credentialId,
        type: 'public-key',
        clientExtensionResults: {},
        response: { clientDataJSON: b64url(client), authenticatorData: b64url(data), signature: b64url(signature) },
      };
    },
  };
}
