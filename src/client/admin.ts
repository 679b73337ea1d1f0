/**
 * Token and webhook administration, behind interfaces like every other verb: over the local home
 * (the service layer on the server's database) or over the API of `tollgate serve`, where the caller
 * needs the `admin` role. The CLI's `token` and `webhook` commands never know which they use.
 */
import type { ServiceDeps } from '../service/deps.js';
import { createApiToken, listApiTokens, revokeApiToken, type IssuedToken, type TokenInfo } from '../service/tokens.js';
import {
  createWebhook,
  listDeliveries,
  listWebhooks,
  redeliverWebhook,
  removeWebhook,
  type CreatedWebhook,
  type DeliveryInfo,
  type NewWebhook,
  type WebhookInfo,
} from '../service/webhooks.js';
import { listPasskeysAs, revokePasskey, type PasskeyInfo } from '../service/passkeys.js';
import { createTransport, seg, type HttpOptions } from './http-transport.js';

/** API tokens for `tollgate serve`: the secret is in `create`'s answer only. */
export interface TokenAdmin {
  /** Issues a token for `user`, lasting `expires` (`30d`, `12h`) or until revoked. */
  create(user: string, expires?: string): Promise<IssuedToken>;
  /** Revokes a token by its id; TG_TOKEN_NOT_FOUND for an id never issued. */
  revoke(id: string): Promise<TokenInfo>;
  list(): Promise<TokenInfo[]>;
  /**
   * The active policy, when `user` is not in its roster: the server refuses their token (403) until
   * they are. Only the local home can tell; over the API this is always undefined, since the
   * roster check happens on every request there anyway.
   */
  outsideRoster(user: string): Promise<{ policy: string } | undefined>;
}

/** Webhook subscriptions and their delivery log: the secret is in `create`'s answer only. */
export interface WebhookAdmin {
  create(w: NewWebhook): Promise<CreatedWebhook>;
  remove(id: string): Promise<WebhookInfo>;
  list(): Promise<WebhookInfo[]>;
  deliveries(filter: DeliveryFilter): Promise<DeliveryInfo[]>;
  /** Makes a delivery due again now; TG_WEBHOOK_NOT_FOUND for an unknown delivery or a removed webhook. */
  redeliver(deliveryId: string): Promise<DeliveryInfo>;
}

/** Passkeys: listed and revoked from the CLI; registered only in a browser, on the review desk. */
export interface PasskeyAdmin {
  /** Every passkey, or one user's; revoked ones included. Over the API a non-admin sees only their own. */
  list(user?: string): Promise<PasskeyInfo[]>;
  /** Revokes a passkey by its credential id (an admin, or its owner); TG_PASSKEY_NOT_FOUND for an unknown id. */
  revoke(id: string): Promise<PasskeyInfo>;
}

export interface DeliveryFilter {
  readonly webhookId?: string;
  readonly status?: DeliveryInfo['status'];
  readonly limit?: number;
}

/** Token administration on the local home, acting as `actor` (`--as`). */
export function createLocalTokenAdmin(deps: ServiceDeps, actor: string | undefined): TokenAdmin {
  return {
    create: (user, expires) => createApiToken(deps, actor, user, expires),
    revoke: (id) => revokeApiToken(deps, actor, id),
    list: () => listApiTokens(deps.store),
    outsideRoster: async (user) => {
      const active = await deps.store.activePolicy();
      return active && !Object.hasOwn(active.policy.roster, user) ? { policy: active.policy.name } : undefined;
    },
  };
}

/** Token administration over the API, as the token's user (who needs the admin role). */
export function createHttpTokenAdmin(opts: HttpOptions): TokenAdmin {
  const call = createTransport(opts);
  return {
    create: (user, expires) => call('POST', '/api/tokens', { body: { user, ...(expires !== undefined ? { expires } : {}) } }),
    revoke: (id) => call('DELETE', `/api/tokens/${seg(id)}`),
    list: async () => (await call<{ tokens: TokenInfo[] }>('GET', '/api/tokens')).tokens,
    outsideRoster: async () => undefined,
  };
}

/** Webhook administration on the local home, acting as `actor` (`--as`). */
export function createLocalWebhookAdmin(deps: ServiceDeps, actor: string | undefined): WebhookAdmin {
  return {
    create: (w) => createWebhook(deps, actor, w),
    remove: (id) => removeWebhook(deps, actor, id),
    list: () => listWebhooks(deps.store),
    deliveries: (filter) => listDeliveries(deps.store, filter),
    redeliver: (id) => redeliverWebhook(deps, actor, id),
  };
}

/** Webhook administration over the API, as the token's user (who needs the admin role). */
export function createHttpWebhookAdmin(opts: HttpOptions): WebhookAdmin {
  const call = createTransport(opts);
  return {
    create: (w) => call('POST', '/api/webhooks', { body: w }),
    remove: (id) => call('DELETE', `/api/webhooks/${seg(id)}`),
    list: async () => (await call<{ webhooks: WebhookInfo[] }>('GET', '/api/webhooks')).webhooks,
    deliveries: async ({ webhookId, status, limit }) => {
      const query = { ...(status !== undefined ? { status } : {}), ...(limit !== undefined ? { limit: String(limit) } : {}) };
      const path = webhookId !== undefined ? `/api/webhooks/${seg(webhookId)}/deliveries` : '/api/webhook-deliveries';
      return (await call<{ deliveries: DeliveryInfo[] }>('GET', path, { query })).deliveries;
    },
    redeliver: (id) => call('POST', `/api/webhook-deliveries/${seg(id)}/redeliveries`, { body: {} }),
  };
}

/** Passkey administration on the local home, acting as `actor` (`--as`; unnamed: whoever holds the home). */
export function createLocalPasskeyAdmin(deps: ServiceDeps, actor: string | undefined): PasskeyAdmin {
  return {
    list: (user) => listPasskeysAs(deps, actor, user),
    revoke: (id) => revokePasskey(deps, { actor, credentialId: id }),
  };
}

/** Passkey administration over the API, as the token's user (an admin, or a passkey's owner for their own). */
export function createHttpPasskeyAdmin(opts: HttpOptions): PasskeyAdmin {
  const call = createTransport(opts);
  return {
    list: async (user) => (await call<{ passkeys: PasskeyInfo[] }>('GET', '/api/passkeys', { query: user !== undefined ? { user } : {} })).passkeys,
    revoke: (id) => call('DELETE', `/api/passkeys/${seg(id)}`),
  };
}
