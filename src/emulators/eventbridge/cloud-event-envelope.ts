import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/*
 * The events on a bus: CloudEvents 1.0 with the extensions EventBridge adds when it accepts one
 * (aliyunaccountid, aliyunpublishtime, aliyuneventbusname, aliyunregionid, aliyunpublishaddr).
 * What a publisher sends is read leniently (any extension kept); what the envelope must have
 * (id, source, type) is not.
 */

/** An event as the bus holds it and its rules see it. */
export interface BusEvent {
  id: string;
  source: string;
  specversion: string;
  type: string;
  subject?: string;
  time: string;
  datacontenttype?: string;
  dataschema?: string;
  data?: unknown;
  data_base64?: string;
  aliyunaccountid: string;
  aliyunpublishtime: string;
  aliyuneventbusname: string;
  aliyunregionid: string;
  aliyunpublishaddr: string;
  [extension: string]: unknown;
}

/** Where and when an event is accepted: what the bus fills into its envelope. */
export interface PublishContext {
  accountId: string;
  regionId: string;
  /** The publisher's address. */
  publishAddr: string;
  now: Date;
}

/** The envelope a published event must have (PutEvents, the control API). */
export const PublishedEvent = z.looseObject({
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  specversion: z.string().optional(),
  subject: z.string().optional(),
  time: z.string().optional(),
  datacontenttype: z.string().optional(),
  dataschema: z.string().optional(),
  aliyuneventbusname: z.string().optional(),
});
export type PublishedEvent = z.infer<typeof PublishedEvent>;

/**
 * The event as the bus keeps it: what the publisher sent, with the publish fields set by the bus
 * (a publisher's own `aliyunaccountid`, `aliyunpublishtime`, … are replaced: the service, not the
 * caller, knows them) and `time` defaulted to the publish time.
 */
export function acceptEvent(event: PublishedEvent, busName: string, context: PublishContext): BusEvent {
  return {
    ...event,
    id: event.id,
    source: event.source,
    type: event.type,
    specversion: event.specversion ?? '1.0',
    time: event.time ?? context.now.toISOString(),
    aliyunaccountid: context.accountId,
    aliyunpublishtime: context.now.toISOString(),
    aliyuneventbusname: busName,
    aliyunregionid: context.regionId,
    aliyunpublishaddr: context.publishAddr,
  };
}

/** The CloudEvent type of what an HTTP/HTTPS event source receives. */
export const HTTP_SOURCE_EVENT_TYPE = 'eventbridge:Events:HTTPEvent';

/** One request to an HTTP source's webhook. */
export interface HttpSourceRequest {
  method: string;
  /** The path the request was sent to. */
  path: string;
  /** Query parameters (the last value of a repeated one). */
  query: Record<string, string>;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * The event an HTTP/HTTPS event source makes of a request to its webhook: source the event
 * source's name, type `eventbridge:Events:HTTPEvent`, and the request as `data`: `headers`,
 * `path`, `httpMethod`, `queryString` and `body` (parsed when it is JSON, else the text).
 */
export function httpSourceEvent(sourceName: string, busName: string, request: HttpSourceRequest, context: PublishContext): BusEvent {
  const text = request.body.toString('utf8');
  let body: unknown = text;
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: kept as the text it is (a form post, plain text).
    }
  }
  return acceptEvent(
    {
      id: randomUUID(),
      source: sourceName,
      type: HTTP_SOURCE_EVENT_TYPE,
      specversion: '1.0',
      subject: `acs:eventbridge:${context.regionId}:${context.accountId}:eventbus/${busName}/eventsource/${sourceName}`,
      datacontenttype: 'application/json',
      data: { headers: request.headers, path: request.path, httpMethod: request.method, queryString: request.query, body },
    },
    busName,
    context,
  );
}
