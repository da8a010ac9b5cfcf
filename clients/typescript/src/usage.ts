/**
 * The client as an app uses it: compiled by `tsc` in `make lint`, never run. When the API
 * changes a path, a parameter or a field these lines use, the build fails here first.
 */
import {
  createQuartierClient,
  type ApiError,
  type EventDetail,
  type FeedPage,
  type WorksListItem,
} from "./index.js";

export async function nearbyWorks(baseUrl: string): Promise<WorksListItem[]> {
  const api = createQuartierClient({ baseUrl, language: "fr" });
  const { data, error } = await api.GET("/api/v1/works/", {
    params: { query: { near: "45.7640,4.8357", radius: 800, ordering: "distance" } },
  });
  if (error) throw new Error(describe(error));
  return data.results.filter((works) => works.impacts.includes("bus"));
}

export async function eventWithDates(baseUrl: string, id: number): Promise<EventDetail> {
  const api = createQuartierClient({ baseUrl, language: "en" });
  const { data, error } = await api.GET("/api/v1/events/{id}/", {
    params: { path: { id: String(id) } },
  });
  if (error) throw new Error(describe(error));
  const starts: string[] = data.occurrences.map((occurrence) => occurrence.start_at);
  console.log(data.title, data.rrule, starts, data.ical_url);
  return data;
}

export async function registerAndReadFeed(baseUrl: string): Promise<FeedPage> {
  const anonymous = createQuartierClient({ baseUrl });
  const registered = await anonymous.POST("/api/v1/devices/", {
    body: { platform: "android", language: "fr", timezone: "Europe/Paris" },
  });
  if (registered.error) throw new Error(describe(registered.error));
  const token: string = registered.data.token;
  const resident = createQuartierClient({ baseUrl, deviceToken: token });
  await resident.PATCH("/api/v1/me/", { body: { personalization_consent: true } });
  await resident.POST("/api/v1/me/places/", {
    body: {
      label: "home",
      radius_m: 800,
      location: { type: "Point", coordinates: [4.83571, 45.76389] },
    },
  });
  const { data, error } = await resident.GET("/api/v1/feed/", {
    params: { query: { page_size: 10 } },
  });
  if (error) throw new Error(describe(error));
  for (const item of data.results) {
    console.log(item.type, item.id, item.title, item.score, item.reasons.map((r) => r.text));
  }
  return data;
}

export async function publishNews(baseUrl: string, apiKey: string): Promise<number> {
  const publisher = createQuartierClient({ baseUrl, apiKey });
  const { data, error } = await publisher.POST("/api/v1/news/", {
    body: {
      title_fr: "Fermeture de la piscine Garibaldi",
      category: "mobilite",
      geometry: { type: "Point", coordinates: [4.8512, 45.7533] },
      status: "published",
    },
  });
  if (error) throw new Error(describe(error));
  return data.id;
}

function describe(error: ApiError): string {
  return `${error.error}: ${error.message}`;
}
