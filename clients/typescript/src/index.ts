/**
 * Typed client of the Quartier API v1, for web and React Native apps.
 *
 * `schema.d.ts` is generated from the backend's OpenAPI schema (`openapi.yaml`, from
 * `manage.py spectacular`) by openapi-typescript: `make client` regenerates both, and
 * `make lint` fails when they no longer match the backend or no longer compile. Requests go
 * through openapi-fetch: paths, parameters, bodies and answers are all checked by `tsc`.
 *
 *     const api = createQuartierClient({ baseUrl: "http://10.0.2.2:8000", language: "fr" });
 *     const { data, error } = await api.GET("/api/v1/works/", {
 *       params: { query: { near: "45.764,4.8357", radius: 800, ordering: "distance" } },
 *     });
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";

import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };

/** Every schema of the API by name: `Schemas["NewsListItem"]`, `Schemas["Error"]`… */
export type Schemas = components["schemas"];
export type NewsListItem = Schemas["NewsListItem"];
export type NewsDetail = Schemas["NewsDetail"];
export type WorksListItem = Schemas["WorksListItem"];
export type WorksDetail = Schemas["WorksDetail"];
export type EventListItem = Schemas["EventListItem"];
export type EventDetail = Schemas["EventDetail"];
export type FeedPage = Schemas["FeedPage"];
export type Place = Schemas["Place"];
export type DeviceProfile = Schemas["DeviceProfile"];
/** The one error shape of every 4xx/5xx answer (`{error, message, fields?}`). */
export type ApiError = Schemas["Error"];

/** Answers are typed as JSON (`application/json`); GeoJSON and iCalendar are other formats. */
export type QuartierClient = Client<paths, "application/json">;

export interface QuartierClientOptions {
  /** The server's origin, without `/api/v1` (e.g. `https://api.ville.example`). */
  baseUrl: string;
  /** A resident's device token (`POST /api/v1/devices/`): sent as `Authorization: Bearer`. */
  deviceToken?: string | (() => string | undefined);
  /** An organization's API key, for publishing: sent as `Authorization: Api-Key`. */
  apiKey?: string;
  /** `Accept-Language` of every request: `fr` (the default on the server) or `en`. */
  language?: "fr" | "en";
  /** Firebase App Check token for device registration, when the deployment requires it. */
  appCheckToken?: () => string | undefined | Promise<string | undefined>;
  /** Another `fetch` (tests, React Native polyfills). */
  fetch?: typeof globalThis.fetch;
}

/** A client of the API at `baseUrl`, sending the credentials and language given. */
export function createQuartierClient(options: QuartierClientOptions): QuartierClient {
  const client = createClient<paths, "application/json">({
    baseUrl: options.baseUrl,
    fetch: options.fetch,
  });
  const headers: Middleware = {
    async onRequest({ request }) {
      const token =
        typeof options.deviceToken === "function" ? options.deviceToken() : options.deviceToken;
      if (options.apiKey) {
        request.headers.set("Authorization", `Api-Key ${options.apiKey}`);
      } else if (token) {
        request.headers.set("Authorization", `Bearer ${token}`);
      }
      if (options.language) {
        request.headers.set("Accept-Language", options.language);
      }
      if (options.appCheckToken && new URL(request.url).pathname === "/api/v1/devices/") {
        const appCheck = await options.appCheckToken();
        if (appCheck) {
          request.headers.set("X-Firebase-AppCheck", appCheck);
        }
      }
      return request;
    },
  };
  client.use(headers);
  return client;
}

/** The server's answer after `Retry-After` (429, 503), in milliseconds, or undefined. */
export function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get("Retry-After");
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
