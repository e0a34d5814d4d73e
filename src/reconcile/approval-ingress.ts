import type { Logger } from '../config/logger.js';
import type { ApprovalsFile } from '../desired/schema.js';
import { confirmApproval, type ConfirmClients } from '../ingress/confirm-approval.js';
import { dingtalkCallbackRoute } from '../ingress/dingtalk/callback-route.js';
import { DingtalkOpenApi } from '../ingress/dingtalk/open-api.js';
import { connectDingtalkStream } from '../ingress/dingtalk/stream-connection.js';
import type { Route } from '../ingress/http-server.js';
import type { IngressConfig } from '../ingress/ingress-config.js';
import type { NoticeSink } from '../ingress/ingress-notice.js';
import { larkCallbackRoute } from '../ingress/lark/callback-route.js';
import { connectLarkLongConnection } from '../ingress/lark/long-connection.js';
import { LarkOpenApi } from '../ingress/lark/open-api.js';
import { noticeFromDingtalkEvent, noticeFromLarkEvent, type ParsedNotice } from '../ingress/parse-notice.js';
import type { RequestProvider, SubmitResult } from '../requests/provider.js';
import { flowCode } from '../requests/map-approval.js';
import { ApprovalIntake } from './approval-intake.js';
import type { ReconcilerMetrics } from './metrics.js';
import type { Outbox } from './outbox.js';
import type { RequestContextReader } from './request-context.js';
import type { StateStore } from './state-store.js';

export interface ApprovalIngressOptions {
  config: IngressConfig;
  store: StateStore;
  context: RequestContextReader;
  provider: RequestProvider;
  outbox: Outbox;
  metrics: ReconcilerMetrics;
  log: Logger;
  onSubmitted(result: SubmitResult): void;
  /** How many approvals wait in the inbox (for the status). */
  onOpen?(count: number): void;
}

/** Every way approvals come in, and the intake they go to. */
export interface ApprovalIngress {
  readonly intake: ApprovalIntake;
  /** What ingress paths hand verified notices to (also EventBridge's approval events). */
  readonly sink: NoticeSink;
  /** `POST /ingress/dingtalk` and `POST /ingress/lark`, for the platforms whose callbacks are configured. */
  readonly routes: Route[];
  /** Which ways in are on, for the log and the status. */
  readonly paths: string[];
  /** Connects the stream and long connections (after the HTTP server is up) and starts the intake. */
  start(): Promise<void>;
  /** Disconnects, then lets the notices in hand finish; the rest stays in the inbox. */
  stop(): Promise<void>;
}

/**
 * Wires the approvals half of the loop: the open-API clients that confirm approvals, the intake
 * (inbox → confirm → map → provider), the HTTP callback routes, DingTalk Stream mode and Lark's
 * long connection. Each path verifies what it receives and hands notices to the same sink, so an
 * approval that arrives by two paths is one inbox row and one commit.
 */
export function approvalIngress(options: ApprovalIngressOptions): ApprovalIngress {
  const { config, log } = options;
  const clients: ConfirmClients = {
    ...(config.dingtalk ? { dingtalk: new DingtalkOpenApi({ appKey: config.dingtalk.appKey, appSecret: config.dingtalk.appSecret, baseUrl: config.dingtalk.apiBaseUrl }) } : {}),
    ...(config.lark ? { lark: new LarkOpenApi({ appId: config.lark.appId, appSecret: config.lark.appSecret, domain: config.lark.domain }) } : {}),
  };
  const intake = new ApprovalIntake({
    store: options.store,
    confirm: (notice) => confirmApproval(notice, clients),
    context: () => options.context.read(),
    provider: options.provider,
    outbox: options.outbox,
    metrics: options.metrics,
    log: log.child({ component: 'approvals' }),
    onSubmitted: options.onSubmitted,
    ...(options.onOpen ? { onOpen: options.onOpen } : {}),
  });
  const sink = intake.sink;

  const routes: Route[] = [];
  const paths: string[] = [];
  if (config.dingtalk?.callback) {
    routes.push(dingtalkCallbackRoute({ token: config.dingtalk.callback.token, encodingAesKey: config.dingtalk.callback.encodingAesKey, appKey: config.dingtalk.appKey, sink, log }));
    paths.push('dingtalk http');
  }
  if (config.lark?.callback) {
    routes.push(larkCallbackRoute({ verificationToken: config.lark.callback.verificationToken, ...(config.lark.callback.encryptKey ? { encryptKey: config.lark.callback.encryptKey } : {}), sink, log }));
    paths.push('lark http');
  }
  if (config.dingtalk?.stream) paths.push('dingtalk stream');
  if (config.lark?.longConnection) paths.push('lark long connection');

  /** A stream frame's event as a notice into the sink; true acks it (stored, a duplicate, or not ours). */
  const accept = (parsed: ParsedNotice, what: Record<string, unknown>): boolean => {
    if ('ignored' in parsed) {
      log.debug({ ...what, reason: parsed.ignored }, 'event ignored');
      return true;
    }
    sink(parsed.notice);
    return true;
  };

  const connections: { close(): Promise<void> }[] = [];
  return {
    intake,
    sink,
    routes,
    paths,
    async start() {
      intake.start();
      if (config.dingtalk?.stream) {
        connections.push(
          await connectDingtalkStream({
            clientId: config.dingtalk.appKey,
            clientSecret: config.dingtalk.appSecret,
            apiBase: config.dingtalk.apiBaseUrl,
            log,
            onEvent: (event) => {
              const data = typeof event.data === 'object' && event.data !== null ? (event.data as Record<string, unknown>) : {};
              return accept(noticeFromDingtalkEvent(event.eventType, event.eventId, data, 'stream', event.bornAt !== undefined ? new Date(event.bornAt) : undefined), { platform: 'dingtalk', eventType: event.eventType, eventId: event.eventId });
            },
          }),
        );
      }
      if (config.lark && !config.lark.longConnection && clients.lark) {
        // HTTP callbacks too: Lark sends approval events only for the approval codes an app subscribed to.
        const { approvals } = await options.context.read();
        for (const code of larkApprovalCodes(approvals)) {
          await clients.lark.subscribe(code).catch((error: unknown) => log.error({ err: error, approvalCode: code }, 'could not subscribe to a Lark approval: its approvals will not arrive until this is fixed'));
        }
      }
      if (config.lark?.longConnection) {
        // The long connection subscribes each approval code before it connects.
        const approvalCodes = larkApprovalCodes((await options.context.read()).approvals);
        connections.push(
          await connectLarkLongConnection({
            appId: config.lark.appId,
            appSecret: config.lark.appSecret,
            domain: config.lark.domain,
            approvalCodes,
            ...(clients.lark ? { openApi: clients.lark } : {}),
            log,
            onEvent: (event) => accept(noticeFromLarkEvent(event.eventType, event.eventId, event.event, 'stream'), { platform: 'lark', eventType: event.eventType, eventId: event.eventId }),
          }),
        );
      }
      log.info({ paths }, paths.length > 0 ? 'approvals come in by these paths' : 'no approval path is configured (ROLLCALL_DINGTALK_* / ROLLCALL_LARK_*): approvals come only through EventBridge');
    },
    async stop() {
      for (const connection of connections.splice(0)) await connection.close().catch((error: unknown) => log.warn({ err: error }, 'while closing an approval connection'));
      await intake.stop();
    },
  };
}

function larkApprovalCodes(approvals: ApprovalsFile): string[] {
  return approvals.flows.filter((flow) => flow.platform === 'lark').map((flow) => flowCode(flow)).filter((code): code is string => code !== undefined);
}
