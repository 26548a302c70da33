// The globals a Clio Operate (ShareDo) execution-engine plan sees, as operate-toolkit provides them.
// Point your editor at this file (see the demo solution's jsconfig.json) for completion and checking.
// A test keeps this file in step with the runtime (smartplans/plan_globals.js).

/** The triggering business event. */
interface OperateEvent {
  number?: number;
  eventType?: string;
  occurredAt?: string;
  /** At least `sharedoId` and `sharedoTypeSystemName`; `fromPhase`/`toPhase` on phase changes. */
  Data: { sharedoId?: string; sharedoTypeSystemName?: string; [key: string]: any };
  /** The id of this plan execution. */
  PlanExecutionId: string;
}

/** Variables that persist across the steps of one execution. */
interface OperateContext {
  [name: string]: any;
}

interface OperateLog {
  Debug(...message: any[]): void;
  Verbose(...message: any[]): void;
  Information(...message: any[]): void;
  Warning(...message: any[]): void;
  Error(...message: any[]): void;
  Fatal(...message: any[]): void;
}

/** What every `sharedo.http` call answers; `status` is the .NET HttpStatusCode name. */
interface OperateHttpResult<T = any> {
  success: boolean;
  status: "OK" | "Created" | "NoContent" | "BadRequest" | "Unauthorized" | "Forbidden" | "NotFound" | "Conflict" |
    "InternalServerError" | "BadGateway" | "ServiceUnavailable" | "GatewayTimeout" | string;
  statusCode: number;
  body: T;
}

interface OperateHttp {
  get<T = any>(url: string): OperateHttpResult<T>;
  post<T = any>(url: string, body?: any): OperateHttpResult<T>;
  put<T = any>(url: string, body?: any): OperateHttpResult<T>;
  delete<T = any>(url: string, body?: any): OperateHttpResult<T>;
  patch<T = any>(url: string, body?: any): OperateHttpResult<T>;
}

interface OperateSharedo {
  /** Synchronous calls to the tenant's API as the workflow client `ee-app`; external systems via `/api/proxy/{service}/_/{path}`. */
  http: OperateHttp;
  /** Move a work item to a phase; throws when the move is refused. */
  setPhase(workItemId: string, phaseSystemName: string, force?: boolean, reasonText?: string): any;
  /** Expand `{{variable}}` placeholders from `ctx`. */
  buildString(template: string): string;
  context: { currentUser(): { clientId: string; userId: string | null } };
}

interface OperateDelay {
  readonly Seconds: boolean;
  readonly Minutes: boolean;
  readonly Hours: boolean;
  readonly Days: boolean;
  readonly Weeks: boolean;
}

interface OperateSubProcess {
  Now(): boolean;
  On(when: OperateDateTime | Date | string): boolean;
  /** `trigger.SubProcess("chase").In(3).Days` — reading the unit schedules the step. */
  In(amount: number): OperateDelay;
}

interface OperateTrigger {
  SubProcess(stepSystemName: string): OperateSubProcess;
  CreateForSharedo(sharedoId: string): { Execute(stepSystemName: string): { OnPhase(phaseSystemName: string): boolean } };
}

interface OperateDateTime {
  AddMilliseconds(n: number): OperateDateTime;
  AddSeconds(n: number): OperateDateTime;
  AddMinutes(n: number): OperateDateTime;
  AddHours(n: number): OperateDateTime;
  AddDays(n: number): OperateDateTime;
  AddMonths(n: number): OperateDateTime;
  AddYears(n: number): OperateDateTime;
  readonly Year: number;
  readonly Month: number;
  readonly Day: number;
  readonly Hour: number;
  readonly Minute: number;
  readonly Second: number;
  readonly DayOfWeek: number;
  readonly Date: OperateDateTime;
  readonly Ticks: number;
  ToUniversalTime(): OperateDateTime;
  ToLocalTime(): OperateDateTime;
  CompareTo(other: OperateDateTime | Date): number;
  /** `"o"` round-trip ISO 8601, `"s"`, `"yyyy-MM-dd"`, `"d"`. */
  ToString(format?: string): string;
  toISOString(): string;
  valueOf(): number;
}

interface OperateDateTimeStatic {
  readonly Now: OperateDateTime;
  readonly UtcNow: OperateDateTime;
  readonly Today: OperateDateTime;
  Parse(text: string | Date | OperateDateTime): OperateDateTime;
  TryParse(text: string): OperateDateTime | null;
}

interface OperateGuid {
  ToString(): string;
  Equals(other: any): boolean;
}

interface OperateGuidStatic {
  NewGuid(): OperateGuid;
  Parse(text: string): OperateGuid;
  TryParse(text: string): OperateGuid | null;
  readonly Empty: OperateGuid;
}

interface OperateCallToAction {
  CallToActionContextType: string;
  ContextId: string | null;
  Command: string | null;
  CommandConfiguration: any;
  Icon: string | null;
  Css: string | null;
  Display: string | null;
}

interface OperateCallToActionBuilder {
  WithDisplay(title: string): OperateCallToActionBuilder;
  WithStyles(css: string): OperateCallToActionBuilder;
  WithIcon(icon: string): OperateCallToActionBuilder;
  WithCommand(command: string, configuration?: any): OperateCallToActionBuilder;
  WithContext(contextType: string, contextId?: string): OperateCallToActionBuilder;
  Build(): OperateCallToAction;
}

interface OperateActionPlanItemBuilder {
  WithDescription(text: string): OperateActionPlanItemBuilder;
  AddCheckbox(): OperateActionPlanItemBuilder;
  AddInformation(): OperateActionPlanItemBuilder;
  AddHeader(): OperateActionPlanItemBuilder;
  MarkRequired(): OperateActionPlanItemBuilder;
  WithOrder(order: number): OperateActionPlanItemBuilder;
  WithCallToAction(cta: OperateCallToAction): OperateActionPlanItemBuilder;
  Build(): any;
}

interface OperateActionPlanBuilder<Owner = { Save(): string }> {
  ForSharedo(sharedoId: string): OperateActionPlanBuilder<Owner>;
  WithTitle(title: string): OperateActionPlanBuilder<Owner>;
  AddItem(item: any): OperateActionPlanBuilder<Owner>;
  Build(): Owner;
  /** Saves as Build().Save() does (for a task's action plan: the task). */
  Save(): string;
}

interface OperateBuiltTask {
  /** Creates the task; returns its id. */
  Save(): string;
}

interface OperateReminder {
  At(amount: number): Record<"Seconds" | "Minutes" | "Hours" | "Days" | "Weeks", OperateTaskBuilder>;
}

interface OperateTaskBuilder {
  WithId(id: string): OperateTaskBuilder;
  OfType(sharedoTypeSystemName: string): OperateTaskBuilder;
  WithTitle(title: string): OperateTaskBuilder;
  WithDescription(text: string): OperateTaskBuilder;
  WithPriorityId(priority: number): OperateTaskBuilder;
  WithTag(tag: string): OperateTaskBuilder;
  DueOn(when: OperateDateTime | Date | string): OperateTaskBuilder;
  ForSharedo(parentSharedoId: string): OperateTaskBuilder;
  WithSharedo(parentSharedoId: string): OperateTaskBuilder;
  Assign(roleSystemName: string): { To(odsId: string): OperateTaskBuilder };
  OnComplete(stepSystemName: string): OperateTaskBuilder;
  OnOverdue(stepSystemName: string): OperateTaskBuilder;
  OnPhase(phaseSystemName: string, stepSystemName: string): OperateTaskBuilder;
  /** A reminder `.At(n).Minutes` (Seconds, Hours, Days, Weeks) before the due date: the step runs then [inferred]. */
  OnReminderDue(stepSystemName: string): OperateReminder;
  WithActionPlan(): OperateActionPlanBuilder<OperateTaskBuilder>;
  /** Creates the task as Build().Save() does; returns its id. */
  Save(): string;
  Build(): OperateBuiltTask;
}

interface OperateActions {
  sharedo: {
    BuildTask(): OperateTaskBuilder;
    BuildActionPlan(): OperateActionPlanBuilder;
    BuildActionPlanItem(): OperateActionPlanItemBuilder;
    BuildCallToAction(): OperateCallToActionBuilder;
    AddWorkingDays(when: OperateDateTime | Date | string, days: number): OperateDateTime;
    AddWorkingHours(when: OperateDateTime | Date | string, hours: number): OperateDateTime;
  };
}

declare const ctx: OperateContext;
declare const ev: OperateEvent;
declare const log: OperateLog;
declare const trigger: OperateTrigger;
declare const sharedo: OperateSharedo;
declare const actions: OperateActions;
declare const DateTime: OperateDateTimeStatic;
declare const Guid: OperateGuidStatic;

/** A step: `function main(ev, ctx, log) { ... }`; a plan ends with `return { main: main, ... }`. */
type OperateStep = (ev: OperateEvent, ctx: OperateContext, log: OperateLog) => void;
