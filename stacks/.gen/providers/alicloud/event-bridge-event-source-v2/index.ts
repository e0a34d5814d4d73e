// @ts-nocheck: generated code without `override` keywords (noImplicitOverride); regenerate with `npm run bindings`
// https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface EventBridgeEventSourceV2Config extends cdktf.TerraformMetaArguments {
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#description EventBridgeEventSourceV2#description}
  */
  readonly description?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#event_bus_name EventBridgeEventSourceV2#event_bus_name}
  */
  readonly eventBusName: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#event_source_name EventBridgeEventSourceV2#event_source_name}
  */
  readonly eventSourceName: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#linked_external_source EventBridgeEventSourceV2#linked_external_source}
  */
  readonly linkedExternalSource?: boolean | cdktf.IResolvable;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#id EventBridgeEventSourceV2#id}
  *
  * Please be aware that the id field is automatically added to all resources in Terraform providers using a Terraform provider SDK version below 2.
  * If you experience problems setting this value it might not be settable. Please take a look at the provider documentation to ensure it should be settable.
  */
  readonly id?: string;
  /**
  * source_http_event_parameters block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#source_http_event_parameters EventBridgeEventSourceV2#source_http_event_parameters}
  */
  readonly sourceHttpEventParameters?: EventBridgeEventSourceV2SourceHttpEventParameters;
  /**
  * source_kafka_parameters block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#source_kafka_parameters EventBridgeEventSourceV2#source_kafka_parameters}
  */
  readonly sourceKafkaParameters?: EventBridgeEventSourceV2SourceKafkaParameters;
  /**
  * source_mns_parameters block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#source_mns_parameters EventBridgeEventSourceV2#source_mns_parameters}
  */
  readonly sourceMnsParameters?: EventBridgeEventSourceV2SourceMnsParameters;
  /**
  * source_oss_event_parameters block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#source_oss_event_parameters EventBridgeEventSourceV2#source_oss_event_parameters}
  */
  readonly sourceOssEventParameters?: EventBridgeEventSourceV2SourceOssEventParameters;
  /**
  * source_rabbit_mq_parameters block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#source_rabbit_mq_parameters EventBridgeEventSourceV2#source_rabbit_mq_parameters}
  */
  readonly sourceRabbitMqParameters?: EventBridgeEventSourceV2SourceRabbitMqParameters;
  /**
  * source_rocketmq_parameters block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#source_rocketmq_parameters EventBridgeEventSourceV2#source_rocketmq_parameters}
  */
  readonly sourceRocketmqParameters?: EventBridgeEventSourceV2SourceRocketmqParameters;
  /**
  * source_sls_parameters block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#source_sls_parameters EventBridgeEventSourceV2#source_sls_parameters}
  */
  readonly sourceSlsParameters?: EventBridgeEventSourceV2SourceSlsParameters;
  /**
  * source_scheduled_event_parameters block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#source_scheduled_event_parameters EventBridgeEventSourceV2#source_scheduled_event_parameters}
  */
  readonly sourceScheduledEventParameters?: EventBridgeEventSourceV2SourceScheduledEventParameters;
  /**
  * timeouts block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#timeouts EventBridgeEventSourceV2#timeouts}
  */
  readonly timeouts?: EventBridgeEventSourceV2Timeouts;
}
export interface EventBridgeEventSourceV2SourceHttpEventParameters {
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#type EventBridgeEventSourceV2#type}
  */
  readonly type?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#security_config EventBridgeEventSourceV2#security_config}
  */
  readonly securityConfig?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#ip EventBridgeEventSourceV2#ip}
  */
  readonly ip?: string[];
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#referer EventBridgeEventSourceV2#referer}
  */
  readonly referer?: string[];
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#method EventBridgeEventSourceV2#method}
  */
  readonly method?: string[];
}

export function eventBridgeEventSourceV2SourceHttpEventParametersToTerraform(struct?: EventBridgeEventSourceV2SourceHttpEventParametersOutputReference | EventBridgeEventSourceV2SourceHttpEventParameters): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    type: cdktf.stringToTerraform(struct!.type),
    security_config: cdktf.stringToTerraform(struct!.securityConfig),
    ip: cdktf.listMapper(cdktf.stringToTerraform, false)(struct!.ip),
    referer: cdktf.listMapper(cdktf.stringToTerraform, false)(struct!.referer),
    method: cdktf.listMapper(cdktf.stringToTerraform, false)(struct!.method),
  }
}


export function eventBridgeEventSourceV2SourceHttpEventParametersToHclTerraform(struct?: EventBridgeEventSourceV2SourceHttpEventParametersOutputReference | EventBridgeEventSourceV2SourceHttpEventParameters): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    type: {
      value: cdktf.stringToHclTerraform(struct!.type),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    security_config: {
      value: cdktf.stringToHclTerraform(struct!.securityConfig),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    ip: {
      value: cdktf.listMapperHcl(cdktf.stringToHclTerraform, false)(struct!.ip),
      isBlock: false,
      type: "list",
      storageClassType: "stringList",
    },
    referer: {
      value: cdktf.listMapperHcl(cdktf.stringToHclTerraform, false)(struct!.referer),
      isBlock: false,
      type: "list",
      storageClassType: "stringList",
    },
    method: {
      value: cdktf.listMapperHcl(cdktf.stringToHclTerraform, false)(struct!.method),
      isBlock: false,
      type: "list",
      storageClassType: "stringList",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class EventBridgeEventSourceV2SourceHttpEventParametersOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string) {
    super(terraformResource, terraformAttribute, false, 0);
  }

  public get internalValue(): EventBridgeEventSourceV2SourceHttpEventParameters | undefined {
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._type !== undefined) {
      hasAnyValues = true;
      internalValueResult.type = this._type;
    }
    if (this._securityConfig !== undefined) {
      hasAnyValues = true;
      internalValueResult.securityConfig = this._securityConfig;
    }
    if (this._ip !== undefined) {
      hasAnyValues = true;
      internalValueResult.ip = this._ip;
    }
    if (this._referer !== undefined) {
      hasAnyValues = true;
      internalValueResult.referer = this._referer;
    }
    if (this._method !== undefined) {
      hasAnyValues = true;
      internalValueResult.method = this._method;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: EventBridgeEventSourceV2SourceHttpEventParameters | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this._type = undefined;
      this._securityConfig = undefined;
      this._ip = undefined;
      this._referer = undefined;
      this._method = undefined;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this._type = value.type;
      this._securityConfig = value.securityConfig;
      this._ip = value.ip;
      this._referer = value.referer;
      this._method = value.method;
    }
  }

  // type - computed: false, optional: true, required: false
  private _type?: string; 
  public get type() {
    return this.getStringAttribute('type');
  }
  public set type(value: string) {
    this._type = value;
  }
  public resetType() {
    this._type = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get typeInput() {
    return this._type;
  }

  // security_config - computed: false, optional: true, required: false
  private _securityConfig?: string; 
  public get securityConfig() {
    return this.getStringAttribute('security_config');
  }
  public set securityConfig(value: string) {
    this._securityConfig = value;
  }
  public resetSecurityConfig() {
    this._securityConfig = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get securityConfigInput() {
    return this._securityConfig;
  }

  // ip - computed: false, optional: true, required: false
  private _ip?: string[]; 
  public get ip() {
    return this.getListAttribute('ip');
  }
  public set ip(value: string[]) {
    this._ip = value;
  }
  public resetIp() {
    this._ip = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get ipInput() {
    return this._ip;
  }

  // referer - computed: false, optional: true, required: false
  private _referer?: string[]; 
  public get referer() {
    return this.getListAttribute('referer');
  }
  public set referer(value: string[]) {
    this._referer = value;
  }
  public resetReferer() {
    this._referer = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get refererInput() {
    return this._referer;
  }

  // public_web_hook_url - computed: true, optional: false, required: false
  public get publicWebHookUrl() {
    return this.getListAttribute('public_web_hook_url');
  }

  // method - computed: false, optional: true, required: false
  private _method?: string[]; 
  public get method() {
    return this.getListAttribute('method');
  }
  public set method(value: string[]) {
    this._method = value;
  }
  public resetMethod() {
    this._method = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get methodInput() {
    return this._method;
  }

  // vpc_web_hook_url - computed: true, optional: false, required: false
  public get vpcWebHookUrl() {
    return this.getListAttribute('vpc_web_hook_url');
  }
}
export interface EventBridgeEventSourceV2SourceKafkaParameters {
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#offset_reset EventBridgeEventSourceV2#offset_reset}
  */
  readonly offsetReset?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#vpc_id EventBridgeEventSourceV2#vpc_id}
  */
  readonly vpcId?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#instance_id EventBridgeEventSourceV2#instance_id}
  */
  readonly instanceId?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#vswitch_ids EventBridgeEventSourceV2#vswitch_ids}
  */
  readonly vswitchIds?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#network EventBridgeEventSourceV2#network}
  */
  readonly network?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#security_group_id EventBridgeEventSourceV2#security_group_id}
  */
  readonly securityGroupId?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#region_id EventBridgeEventSourceV2#region_id}
  */
  readonly regionId?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#topic EventBridgeEventSourceV2#topic}
  */
  readonly topic?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#consumer_group EventBridgeEventSourceV2#consumer_group}
  */
  readonly consumerGroup?: string;
}

export function eventBridgeEventSourceV2SourceKafkaParametersToTerraform(struct?: EventBridgeEventSourceV2SourceKafkaParametersOutputReference | EventBridgeEventSourceV2SourceKafkaParameters): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    offset_reset: cdktf.stringToTerraform(struct!.offsetReset),
    vpc_id: cdktf.stringToTerraform(struct!.vpcId),
    instance_id: cdktf.stringToTerraform(struct!.instanceId),
    vswitch_ids: cdktf.stringToTerraform(struct!.vswitchIds),
    network: cdktf.stringToTerraform(struct!.network),
    security_group_id: cdktf.stringToTerraform(struct!.securityGroupId),
    region_id: cdktf.stringToTerraform(struct!.regionId),
    topic: cdktf.stringToTerraform(struct!.topic),
    consumer_group: cdktf.stringToTerraform(struct!.consumerGroup),
  }
}


export function eventBridgeEventSourceV2SourceKafkaParametersToHclTerraform(struct?: EventBridgeEventSourceV2SourceKafkaParametersOutputReference | EventBridgeEventSourceV2SourceKafkaParameters): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    offset_reset: {
      value: cdktf.stringToHclTerraform(struct!.offsetReset),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    vpc_id: {
      value: cdktf.stringToHclTerraform(struct!.vpcId),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    instance_id: {
      value: cdktf.stringToHclTerraform(struct!.instanceId),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    vswitch_ids: {
      value: cdktf.stringToHclTerraform(struct!.vswitchIds),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    network: {
      value: cdktf.stringToHclTerraform(struct!.network),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    security_group_id: {
      value: cdktf.stringToHclTerraform(struct!.securityGroupId),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    region_id: {
      value: cdktf.stringToHclTerraform(struct!.regionId),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    topic: {
      value: cdktf.stringToHclTerraform(struct!.topic),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    consumer_group: {
      value: cdktf.stringToHclTerraform(struct!.consumerGroup),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class EventBridgeEventSourceV2SourceKafkaParametersOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string) {
    super(terraformResource, terraformAttribute, false, 0);
  }

  public get internalValue(): EventBridgeEventSourceV2SourceKafkaParameters | undefined {
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._offsetReset !== undefined) {
      hasAnyValues = true;
      internalValueResult.offsetReset = this._offsetReset;
    }
    if (this._vpcId !== undefined) {
      hasAnyValues = true;
      internalValueResult.vpcId = this._vpcId;
    }
    if (this._instanceId !== undefined) {
      hasAnyValues = true;
      internalValueResult.instanceId = this._instanceId;
    }
    if (this._vswitchIds !== undefined) {
      hasAnyValues = true;
      internalValueResult.vswitchIds = this._vswitchIds;
    }
    if (this._network !== undefined) {
      hasAnyValues = true;
      internalValueResult.network = this._network;
    }
    if (this._securityGroupId !== undefined) {
      hasAnyValues = true;
      internalValueResult.securityGroupId = this._securityGroupId;
    }
    if (this._regionId !== undefined) {
      hasAnyValues = true;
      internalValueResult.regionId = this._regionId;
    }
    if (this._topic !== undefined) {
      hasAnyValues = true;
      internalValueResult.topic = this._topic;
    }
    if (this._consumerGroup !== undefined) {
      hasAnyValues = true;
      internalValueResult.consumerGroup = this._consumerGroup;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: EventBridgeEventSourceV2SourceKafkaParameters | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this._offsetReset = undefined;
      this._vpcId = undefined;
      this._instanceId = undefined;
      this._vswitchIds = undefined;
      this._network = undefined;
      this._securityGroupId = undefined;
      this._regionId = undefined;
      this._topic = undefined;
      this._consumerGroup = undefined;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this._offsetReset = value.offsetReset;
      this._vpcId = value.vpcId;
      this._instanceId = value.instanceId;
      this._vswitchIds = value.vswitchIds;
      this._network = value.network;
      this._securityGroupId = value.securityGroupId;
      this._regionId = value.regionId;
      this._topic = value.topic;
      this._consumerGroup = value.consumerGroup;
    }
  }

  // offset_reset - computed: false, optional: true, required: false
  private _offsetReset?: string; 
  public get offsetReset() {
    return this.getStringAttribute('offset_reset');
  }
  public set offsetReset(value: string) {
    this._offsetReset = value;
  }
  public resetOffsetReset() {
    this._offsetReset = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get offsetResetInput() {
    return this._offsetReset;
  }

  // vpc_id - computed: false, optional: true, required: false
  private _vpcId?: string; 
  public get vpcId() {
    return this.getStringAttribute('vpc_id');
  }
  public set vpcId(value: string) {
    this._vpcId = value;
  }
  public resetVpcId() {
    this._vpcId = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get vpcIdInput() {
    return this._vpcId;
  }

  // instance_id - computed: false, optional: true, required: false
  private _instanceId?: string; 
  public get instanceId() {
    return this.getStringAttribute('instance_id');
  }
  public set instanceId(value: string) {
    this._instanceId = value;
  }
  public resetInstanceId() {
    this._instanceId = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get instanceIdInput() {
    return this._instanceId;
  }

  // vswitch_ids - computed: false, optional: true, required: false
  private _vswitchIds?: string; 
  public get vswitchIds() {
    return this.getStringAttribute('vswitch_ids');
  }
  public set vswitchIds(value: string) {
    this._vswitchIds = value;
  }
  public resetVswitchIds() {
    this._vswitchIds = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get vswitchIdsInput() {
    return this._vswitchIds;
  }

  // network - computed: false, optional: true, required: false
  private _network?: string; 
  public get network() {
    return this.getStringAttribute('network');
  }
  public set network(value: string) {
    this._network = value;
  }
  public resetNetwork() {
    this._network = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get networkInput() {
    return this._network;
  }

  // security_group_id - computed: false, optional: true, required: false
  private _securityGroupId?: string; 
  public get securityGroupId() {
    return this.getStringAttribute('security_group_id');
  }
  public set securityGroupId(value: string) {
    this._securityGroupId = value;
  }
  public resetSecurityGroupId() {
    this._securityGroupId = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get securityGroupIdInput() {
    return this._securityGroupId;
  }

  // region_id - computed: false, optional: true, required: false
  private _regionId?: string; 
  public get regionId() {
    return this.getStringAttribute('region_id');
  }
  public set regionId(value: string) {
    this._regionId = value;
  }
  public resetRegionId() {
    this._regionId = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get regionIdInput() {
    return this._regionId;
  }

  // topic - computed: false, optional: true, required: false
  private _topic?: string; 
  public get topic() {
    return this.getStringAttribute('topic');
  }
  public set topic(value: string) {
    this._topic = value;
  }
  public resetTopic() {
    this._topic = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get topicInput() {
    return this._topic;
  }

  // consumer_group - computed: false, optional: true, required: false
  private _consumerGroup?: string; 
  public get consumerGroup() {
    return this.getStringAttribute('consumer_group');
  }
  public set consumerGroup(value: string) {
    this._consumerGroup = value;
  }
  public resetConsumerGroup() {
    this._consumerGroup = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get consumerGroupInput() {
    return this._consumerGroup;
  }
}
export interface EventBridgeEventSourceV2SourceMnsParameters {
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#is_base64_decode EventBridgeEventSourceV2#is_base64_decode}
  */
  readonly isBase64Decode?: boolean | cdktf.IResolvable;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#region_id EventBridgeEventSourceV2#region_id}
  */
  readonly regionId?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#queue_name EventBridgeEventSourceV2#queue_name}
  */
  readonly queueName?: string;
}

export function eventBridgeEventSourceV2SourceMnsParametersToTerraform(struct?: EventBridgeEventSourceV2SourceMnsParametersOutputReference | EventBridgeEventSourceV2SourceMnsParameters): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    is_base64_decode: cdktf.booleanToTerraform(struct!.isBase64Decode),
    region_id: cdktf.stringToTerraform(struct!.regionId),
    queue_name: cdktf.stringToTerraform(struct!.queueName),
  }
}


export function eventBridgeEventSourceV2SourceMnsParametersToHclTerraform(struct?: EventBridgeEventSourceV2SourceMnsParametersOutputReference | EventBridgeEventSourceV2SourceMnsParameters): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    is_base64_decode: {
      value: cdktf.booleanToHclTerraform(struct!.isBase64Decode),
      isBlock: false,
      type: "simple",
      storageClassType: "boolean",
    },
    region_id: {
      value: cdktf.stringToHclTerraform(struct!.regionId),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    queue_name: {
      value: cdktf.stringToHclTerraform(struct!.queueName),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class EventBridgeEventSourceV2SourceMnsParametersOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string) {
    super(terraformResource, terraformAttribute, false, 0);
  }

  public get internalValue(): EventBridgeEventSourceV2SourceMnsParameters | undefined {
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._isBase64Decode !== undefined) {
      hasAnyValues = true;
      internalValueResult.isBase64Decode = this._isBase64Decode;
    }
    if (this._regionId !== undefined) {
      hasAnyValues = true;
      internalValueResult.regionId = this._regionId;
    }
    if (this._queueName !== undefined) {
      hasAnyValues = true;
      internalValueResult.queueName = this._queueName;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: EventBridgeEventSourceV2SourceMnsParameters | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this._isBase64Decode = undefined;
      this._regionId = undefined;
      this._queueName = undefined;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this._isBase64Decode = value.isBase64Decode;
      this._regionId = value.regionId;
      this._queueName = value.queueName;
    }
  }

  // is_base64_decode - computed: false, optional: true, required: false
  private _isBase64Decode?: boolean | cdktf.IResolvable; 
  public get isBase64Decode() {
    return this.getBooleanAttribute('is_base64_decode');
  }
  public set isBase64Decode(value: boolean | cdktf.IResolvable) {
    this._isBase64Decode = value;
  }
  public resetIsBase64Decode() {
    this._isBase64Decode = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get isBase64DecodeInput() {
    return this._isBase64Decode;
  }

  // region_id - computed: false, optional: true, required: false
  private _regionId?: string; 
  public get regionId() {
    return this.getStringAttribute('region_id');
  }
  public set regionId(value: string) {
    this._regionId = value;
  }
  public resetRegionId() {
    this._regionId = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get regionIdInput() {
    return this._regionId;
  }

  // queue_name - computed: false, optional: true, required: false
  private _queueName?: string; 
  public get queueName() {
    return this.getStringAttribute('queue_name');
  }
  public set queueName(value: string) {
    this._queueName = value;
  }
  public resetQueueName() {
    this._queueName = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get queueNameInput() {
    return this._queueName;
  }
}
export interface EventBridgeEventSourceV2SourceOssEventParameters {
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#sts_role_arn EventBridgeEventSourceV2#sts_role_arn}
  */
  readonly stsRoleArn?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#event_types EventBridgeEventSourceV2#event_types}
  */
  readonly eventTypes?: string[];
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#match_rules EventBridgeEventSourceV2#match_rules}
  */
  readonly matchRules?: string[];
}

export function eventBridgeEventSourceV2SourceOssEventParametersToTerraform(struct?: EventBridgeEventSourceV2SourceOssEventParametersOutputReference | EventBridgeEventSourceV2SourceOssEventParameters): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    sts_role_arn: cdktf.stringToTerraform(struct!.stsRoleArn),
    event_types: cdktf.listMapper(cdktf.stringToTerraform, false)(struct!.eventTypes),
    match_rules: cdktf.listMapper(cdktf.stringToTerraform, false)(struct!.matchRules),
  }
}


export function eventBridgeEventSourceV2SourceOssEventParametersToHclTerraform(struct?: EventBridgeEventSourceV2SourceOssEventParametersOutputReference | EventBridgeEventSourceV2SourceOssEventParameters): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    sts_role_arn: {
      value: cdktf.stringToHclTerraform(struct!.stsRoleArn),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    event_types: {
      value: cdktf.listMapperHcl(cdktf.stringToHclTerraform, false)(struct!.eventTypes),
      isBlock: false,
      type: "list",
      storageClassType: "stringList",
    },
    match_rules: {
      value: cdktf.listMapperHcl(cdktf.stringToHclTerraform, false)(struct!.matchRules),
      isBlock: false,
      type: "list",
      storageClassType: "stringList",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class EventBridgeEventSourceV2SourceOssEventParametersOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string) {
    super(terraformResource, terraformAttribute, false, 0);
  }

  public get internalValue(): EventBridgeEventSourceV2SourceOssEventParameters | undefined {
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._stsRoleArn !== undefined) {
      hasAnyValues = true;
      internalValueResult.stsRoleArn = this._stsRoleArn;
    }
    if (this._eventTypes !== undefined) {
      hasAnyValues = true;
      internalValueResult.eventTypes = this._eventTypes;
    }
    if (this._matchRules !== undefined) {
      hasAnyValues = true;
      internalValueResult.matchRules = this._matchRules;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: EventBridgeEventSourceV2SourceOssEventParameters | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this._stsRoleArn = undefined;
      this._eventTypes = undefined;
      this._matchRules = undefined;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this._stsRoleArn = value.stsRoleArn;
      this._eventTypes = value.eventTypes;
      this._matchRules = value.matchRules;
    }
  }

  // sts_role_arn - computed: false, optional: true, required: false
  private _stsRoleArn?: string; 
  public get stsRoleArn() {
    return this.getStringAttribute('sts_role_arn');
  }
  public set stsRoleArn(value: string) {
    this._stsRoleArn = value;
  }
  public resetStsRoleArn() {
    this._stsRoleArn = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get stsRoleArnInput() {
    return this._stsRoleArn;
  }

  // event_types - computed: false, optional: true, required: false
  private _eventTypes?: string[]; 
  public get eventTypes() {
    return this.getListAttribute('event_types');
  }
  public set eventTypes(value: string[]) {
    this._eventTypes = value;
  }
  public resetEventTypes() {
    this._eventTypes = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get eventTypesInput() {
    return this._eventTypes;
  }

  // match_rules - computed: false, optional: true, required: false
  private _matchRules?: string[]; 
  public get matchRules() {
    return this.getListAttribute('match_rules');
  }
  public set matchRules(value: string[]) {
    this._matchRules = value;
  }
  public resetMatchRules() {
    this._matchRules = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get matchRulesInput() {
    return this._matchRules;
  }
}
export interface EventBridgeEventSourceV2SourceRabbitMqParameters {
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#virtual_host_name EventBridgeEventSourceV2#virtual_host_name}
  */
  readonly virtualHostName?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#instance_id EventBridgeEventSourceV2#instance_id}
  */
  readonly instanceId?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#region_id EventBridgeEventSourceV2#region_id}
  */
  readonly regionId?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#queue_name EventBridgeEventSourceV2#queue_name}
  */
  readonly queueName?: string;
}

export function eventBridgeEventSourceV2SourceRabbitMqParametersToTerraform(struct?: EventBridgeEventSourceV2SourceRabbitMqParametersOutputReference | EventBridgeEventSourceV2SourceRabbitMqParameters): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    virtual_host_name: cdktf.stringToTerraform(struct!.virtualHostName),
    instance_id: cdktf.stringToTerraform(struct!.instanceId),
    region_id: cdktf.stringToTerraform(struct!.regionId),
    queue_name: cdktf.stringToTerraform(struct!.queueName),
  }
}


export function eventBridgeEventSourceV2SourceRabbitMqParametersToHclTerraform(struct?: EventBridgeEventSourceV2SourceRabbitMqParametersOutputReference | EventBridgeEventSourceV2SourceRabbitMqParameters): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    virtual_host_name: {
      value: cdktf.stringToHclTerraform(struct!.virtualHostName),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    instance_id: {
      value: cdktf.stringToHclTerraform(struct!.instanceId),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    region_id: {
      value: cdktf.stringToHclTerraform(struct!.regionId),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    queue_name: {
      value: cdktf.stringToHclTerraform(struct!.queueName),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class EventBridgeEventSourceV2SourceRabbitMqParametersOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string) {
    super(terraformResource, terraformAttribute, false, 0);
  }

  public get internalValue(): EventBridgeEventSourceV2SourceRabbitMqParameters | undefined {
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._virtualHostName !== undefined) {
      hasAnyValues = true;
      internalValueResult.virtualHostName = this._virtualHostName;
    }
    if (this._instanceId !== undefined) {
      hasAnyValues = true;
      internalValueResult.instanceId = this._instanceId;
    }
    if (this._regionId !== undefined) {
      hasAnyValues = true;
      internalValueResult.regionId = this._regionId;
    }
    if (this._queueName !== undefined) {
      hasAnyValues = true;
      internalValueResult.queueName = this._queueName;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: EventBridgeEventSourceV2SourceRabbitMqParameters | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this._virtualHostName = undefined;
      this._instanceId = undefined;
      this._regionId = undefined;
      this._queueName = undefined;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this._virtualHostName = value.virtualHostName;
      this._instanceId = value.instanceId;
      this._regionId = value.regionId;
      this._queueName = value.queueName;
    }
  }

  // virtual_host_name - computed: false, optional: true, required: false
  private _virtualHostName?: string; 
  public get virtualHostName() {
    return this.getStringAttribute('virtual_host_name');
  }
  public set virtualHostName(value: string) {
    this._virtualHostName = value;
  }
  public resetVirtualHostName() {
    this._virtualHostName = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get virtualHostNameInput() {
    return this._virtualHostName;
  }

  // instance_id - computed: false, optional: true, required: false
  private _instanceId?: string; 
  public get instanceId() {
    return this.getStringAttribute('instance_id');
  }
  public set instanceId(value: string) {
    this._instanceId = value;
  }
  public resetInstanceId() {
    this._instanceId = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get instanceIdInput() {
    return this._instanceId;
  }

  // region_id - computed: false, optional: true, required: false
  private _regionId?: string; 
  public get regionId() {
    return this.getStringAttribute('region_id');
  }
  public set regionId(value: string) {
    this._regionId = value;
  }
  public resetRegionId() {
    this._regionId = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get regionIdInput() {
    return this._regionId;
  }

  // queue_name - computed: false, optional: true, required: false
  private _queueName?: string; 
  public get queueName() {
    return this.getStringAttribute('queue_name');
  }
  public set queueName(value: string) {
    this._queueName = value;
  }
  public resetQueueName() {
    this._queueName = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get queueNameInput() {
    return this._queueName;
  }
}
export interface EventBridgeEventSourceV2SourceRocketmqParameters {
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#instance_id EventBridgeEventSourceV2#instance_id}
  */
  readonly instanceId?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#timestamp EventBridgeEventSourceV2#timestamp}
  */
  readonly timestamp?: number;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#offset EventBridgeEventSourceV2#offset}
  */
  readonly offset?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#group_id EventBridgeEventSourceV2#group_id}
  */
  readonly groupId?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#instance_network EventBridgeEventSourceV2#instance_network}
  */
  readonly instanceNetwork?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#instance_password EventBridgeEventSourceV2#instance_password}
  */
  readonly instancePassword?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#instance_username EventBridgeEventSourceV2#instance_username}
  */
  readonly instanceUsername?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#instance_endpoint EventBridgeEventSourceV2#instance_endpoint}
  */
  readonly instanceEndpoint?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#instance_vpc_id EventBridgeEventSourceV2#instance_vpc_id}
  */
  readonly instanceVpcId?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#instance_vswitch_ids EventBridgeEventSourceV2#instance_vswitch_ids}
  */
  readonly instanceVswitchIds?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#instance_security_group_id EventBridgeEventSourceV2#instance_security_group_id}
  */
  readonly instanceSecurityGroupId?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#region_id EventBridgeEventSourceV2#region_id}
  */
  readonly regionId?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#tag EventBridgeEventSourceV2#tag}
  */
  readonly tag?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#auth_type EventBridgeEventSourceV2#auth_type}
  */
  readonly authType?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#topic EventBridgeEventSourceV2#topic}
  */
  readonly topic?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#instance_type EventBridgeEventSourceV2#instance_type}
  */
  readonly instanceType?: string;
}

export function eventBridgeEventSourceV2SourceRocketmqParametersToTerraform(struct?: EventBridgeEventSourceV2SourceRocketmqParametersOutputReference | EventBridgeEventSourceV2SourceRocketmqParameters): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    instance_id: cdktf.stringToTerraform(struct!.instanceId),
    timestamp: cdktf.numberToTerraform(struct!.timestamp),
    offset: cdktf.stringToTerraform(struct!.offset),
    group_id: cdktf.stringToTerraform(struct!.groupId),
    instance_network: cdktf.stringToTerraform(struct!.instanceNetwork),
    instance_password: cdktf.stringToTerraform(struct!.instancePassword),
    instance_username: cdktf.stringToTerraform(struct!.instanceUsername),
    instance_endpoint: cdktf.stringToTerraform(struct!.instanceEndpoint),
    instance_vpc_id: cdktf.stringToTerraform(struct!.instanceVpcId),
    instance_vswitch_ids: cdktf.stringToTerraform(struct!.instanceVswitchIds),
    instance_security_group_id: cdktf.stringToTerraform(struct!.instanceSecurityGroupId),
    region_id: cdktf.stringToTerraform(struct!.regionId),
    tag: cdktf.stringToTerraform(struct!.tag),
    auth_type: cdktf.stringToTerraform(struct!.authType),
    topic: cdktf.stringToTerraform(struct!.topic),
    instance_type: cdktf.stringToTerraform(struct!.instanceType),
  }
}


export function eventBridgeEventSourceV2SourceRocketmqParametersToHclTerraform(struct?: EventBridgeEventSourceV2SourceRocketmqParametersOutputReference | EventBridgeEventSourceV2SourceRocketmqParameters): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    instance_id: {
      value: cdktf.stringToHclTerraform(struct!.instanceId),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    timestamp: {
      value: cdktf.numberToHclTerraform(struct!.timestamp),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
    offset: {
      value: cdktf.stringToHclTerraform(struct!.offset),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    group_id: {
      value: cdktf.stringToHclTerraform(struct!.groupId),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    instance_network: {
      value: cdktf.stringToHclTerraform(struct!.instanceNetwork),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    instance_password: {
      value: cdktf.stringToHclTerraform(struct!.instancePassword),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    instance_username: {
      value: cdktf.stringToHclTerraform(struct!.instanceUsername),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    instance_endpoint: {
      value: cdktf.stringToHclTerraform(struct!.instanceEndpoint),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    instance_vpc_id: {
      value: cdktf.stringToHclTerraform(struct!.instanceVpcId),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    instance_vswitch_ids: {
      value: cdktf.stringToHclTerraform(struct!.instanceVswitchIds),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    instance_security_group_id: {
      value: cdktf.stringToHclTerraform(struct!.instanceSecurityGroupId),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    region_id: {
      value: cdktf.stringToHclTerraform(struct!.regionId),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    tag: {
      value: cdktf.stringToHclTerraform(struct!.tag),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    auth_type: {
      value: cdktf.stringToHclTerraform(struct!.authType),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    topic: {
      value: cdktf.stringToHclTerraform(struct!.topic),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    instance_type: {
      value: cdktf.stringToHclTerraform(struct!.instanceType),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class EventBridgeEventSourceV2SourceRocketmqParametersOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string) {
    super(terraformResource, terraformAttribute, false, 0);
  }

  public get internalValue(): EventBridgeEventSourceV2SourceRocketmqParameters | undefined {
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._instanceId !== undefined) {
      hasAnyValues = true;
      internalValueResult.instanceId = this._instanceId;
    }
    if (this._timestamp !== undefined) {
      hasAnyValues = true;
      internalValueResult.timestamp = this._timestamp;
    }
    if (this._offset !== undefined) {
      hasAnyValues = true;
      internalValueResult.offset = this._offset;
    }
    if (this._groupId !== undefined) {
      hasAnyValues = true;
      internalValueResult.groupId = this._groupId;
    }
    if (this._instanceNetwork !== undefined) {
      hasAnyValues = true;
      internalValueResult.instanceNetwork = this._instanceNetwork;
    }
    if (this._instancePassword !== undefined) {
      hasAnyValues = true;
      internalValueResult.instancePassword = this._instancePassword;
    }
    if (this._instanceUsername !== undefined) {
      hasAnyValues = true;
      internalValueResult.instanceUsername = this._instanceUsername;
    }
    if (this._instanceEndpoint !== undefined) {
      hasAnyValues = true;
      internalValueResult.instanceEndpoint = this._instanceEndpoint;
    }
    if (this._instanceVpcId !== undefined) {
      hasAnyValues = true;
      internalValueResult.instanceVpcId = this._instanceVpcId;
    }
    if (this._instanceVswitchIds !== undefined) {
      hasAnyValues = true;
      internalValueResult.instanceVswitchIds = this._instanceVswitchIds;
    }
    if (this._instanceSecurityGroupId !== undefined) {
      hasAnyValues = true;
      internalValueResult.instanceSecurityGroupId = this._instanceSecurityGroupId;
    }
    if (this._regionId !== undefined) {
      hasAnyValues = true;
      internalValueResult.regionId = this._regionId;
    }
    if (this._tag !== undefined) {
      hasAnyValues = true;
      internalValueResult.tag = this._tag;
    }
    if (this._authType !== undefined) {
      hasAnyValues = true;
      internalValueResult.authType = this._authType;
    }
    if (this._topic !== undefined) {
      hasAnyValues = true;
      internalValueResult.topic = this._topic;
    }
    if (this._instanceType !== undefined) {
      hasAnyValues = true;
      internalValueResult.instanceType = this._instanceType;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: EventBridgeEventSourceV2SourceRocketmqParameters | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this._instanceId = undefined;
      this._timestamp = undefined;
      this._offset = undefined;
      this._groupId = undefined;
      this._instanceNetwork = undefined;
      this._instancePassword = undefined;
      this._instanceUsername = undefined;
      this._instanceEndpoint = undefined;
      this._instanceVpcId = undefined;
      this._instanceVswitchIds = undefined;
      this._instanceSecurityGroupId = undefined;
      this._regionId = undefined;
      this._tag = undefined;
      this._authType = undefined;
      this._topic = undefined;
      this._instanceType = undefined;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this._instanceId = value.instanceId;
      this._timestamp = value.timestamp;
      this._offset = value.offset;
      this._groupId = value.groupId;
      this._instanceNetwork = value.instanceNetwork;
      this._instancePassword = value.instancePassword;
      this._instanceUsername = value.instanceUsername;
      this._instanceEndpoint = value.instanceEndpoint;
      this._instanceVpcId = value.instanceVpcId;
      this._instanceVswitchIds = value.instanceVswitchIds;
      this._instanceSecurityGroupId = value.instanceSecurityGroupId;
      this._regionId = value.regionId;
      this._tag = value.tag;
      this._authType = value.authType;
      this._topic = value.topic;
      this._instanceType = value.instanceType;
    }
  }

  // instance_id - computed: false, optional: true, required: false
  private _instanceId?: string; 
  public get instanceId() {
    return this.getStringAttribute('instance_id');
  }
  public set instanceId(value: string) {
    this._instanceId = value;
  }
  public resetInstanceId() {
    this._instanceId = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get instanceIdInput() {
    return this._instanceId;
  }

  // timestamp - computed: false, optional: true, required: false
  private _timestamp?: number; 
  public get timestamp() {
    return this.getNumberAttribute('timestamp');
  }
  public set timestamp(value: number) {
    this._timestamp = value;
  }
  public resetTimestamp() {
    this._timestamp = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get timestampInput() {
    return this._timestamp;
  }

  // offset - computed: false, optional: true, required: false
  private _offset?: string; 
  public get offset() {
    return this.getStringAttribute('offset');
  }
  public set offset(value: string) {
    this._offset = value;
  }
  public resetOffset() {
    this._offset = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get offsetInput() {
    return this._offset;
  }

  // group_id - computed: false, optional: true, required: false
  private _groupId?: string; 
  public get groupId() {
    return this.getStringAttribute('group_id');
  }
  public set groupId(value: string) {
    this._groupId = value;
  }
  public resetGroupId() {
    this._groupId = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get groupIdInput() {
    return this._groupId;
  }

  // instance_network - computed: false, optional: true, required: false
  private _instanceNetwork?: string; 
  public get instanceNetwork() {
    return this.getStringAttribute('instance_network');
  }
  public set instanceNetwork(value: string) {
    this._instanceNetwork = value;
  }
  public resetInstanceNetwork() {
    this._instanceNetwork = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get instanceNetworkInput() {
    return this._instanceNetwork;
  }

  // instance_password - computed: false, optional: true, required: false
  private _instancePassword?: string; 
  public get instancePassword() {
    return this.getStringAttribute('instance_password');
  }
  public set instancePassword(value: string) {
    this._instancePassword = value;
  }
  public resetInstancePassword() {
    this._instancePassword = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get instancePasswordInput() {
    return this._instancePassword;
  }

  // instance_username - computed: false, optional: true, required: false
  private _instanceUsername?: string; 
  public get instanceUsername() {
    return this.getStringAttribute('instance_username');
  }
  public set instanceUsername(value: string) {
    this._instanceUsername = value;
  }
  public resetInstanceUsername() {
    this._instanceUsername = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get instanceUsernameInput() {
    return this._instanceUsername;
  }

  // instance_endpoint - computed: false, optional: true, required: false
  private _instanceEndpoint?: string; 
  public get instanceEndpoint() {
    return this.getStringAttribute('instance_endpoint');
  }
  public set instanceEndpoint(value: string) {
    this._instanceEndpoint = value;
  }
  public resetInstanceEndpoint() {
    this._instanceEndpoint = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get instanceEndpointInput() {
    return this._instanceEndpoint;
  }

  // instance_vpc_id - computed: false, optional: true, required: false
  private _instanceVpcId?: string; 
  public get instanceVpcId() {
    return this.getStringAttribute('instance_vpc_id');
  }
  public set instanceVpcId(value: string) {
    this._instanceVpcId = value;
  }
  public resetInstanceVpcId() {
    this._instanceVpcId = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get instanceVpcIdInput() {
    return this._instanceVpcId;
  }

  // instance_vswitch_ids - computed: false, optional: true, required: false
  private _instanceVswitchIds?: string; 
  public get instanceVswitchIds() {
    return this.getStringAttribute('instance_vswitch_ids');
  }
  public set instanceVswitchIds(value: string) {
    this._instanceVswitchIds = value;
  }
  public resetInstanceVswitchIds() {
    this._instanceVswitchIds = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get instanceVswitchIdsInput() {
    return this._instanceVswitchIds;
  }

  // instance_security_group_id - computed: false, optional: true, required: false
  private _instanceSecurityGroupId?: string; 
  public get instanceSecurityGroupId() {
    return this.getStringAttribute('instance_security_group_id');
  }
  public set instanceSecurityGroupId(value: string) {
    this._instanceSecurityGroupId = value;
  }
  public resetInstanceSecurityGroupId() {
    this._instanceSecurityGroupId = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get instanceSecurityGroupIdInput() {
    return this._instanceSecurityGroupId;
  }

  // region_id - computed: false, optional: true, required: false
  private _regionId?: string; 
  public get regionId() {
    return this.getStringAttribute('region_id');
  }
  public set regionId(value: string) {
    this._regionId = value;
  }
  public resetRegionId() {
    this._regionId = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get regionIdInput() {
    return this._regionId;
  }

  // tag - computed: false, optional: true, required: false
  private _tag?: string; 
  public get tag() {
    return this.getStringAttribute('tag');
  }
  public set tag(value: string) {
    this._tag = value;
  }
  public resetTag() {
    this._tag = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get tagInput() {
    return this._tag;
  }

  // auth_type - computed: false, optional: true, required: false
  private _authType?: string; 
  public get authType() {
    return this.getStringAttribute('auth_type');
  }
  public set authType(value: string) {
    this._authType = value;
  }
  public resetAuthType() {
    this._authType = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get authTypeInput() {
    return this._authType;
  }

  // topic - computed: false, optional: true, required: false
  private _topic?: string; 
  public get topic() {
    return this.getStringAttribute('topic');
  }
  public set topic(value: string) {
    this._topic = value;
  }
  public resetTopic() {
    this._topic = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get topicInput() {
    return this._topic;
  }

  // instance_type - computed: false, optional: true, required: false
  private _instanceType?: string; 
  public get instanceType() {
    return this.getStringAttribute('instance_type');
  }
  public set instanceType(value: string) {
    this._instanceType = value;
  }
  public resetInstanceType() {
    this._instanceType = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get instanceTypeInput() {
    return this._instanceType;
  }
}
export interface EventBridgeEventSourceV2SourceSlsParameters {
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#project EventBridgeEventSourceV2#project}
  */
  readonly project?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#role_name EventBridgeEventSourceV2#role_name}
  */
  readonly roleName?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#log_store EventBridgeEventSourceV2#log_store}
  */
  readonly logStore?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#consume_position EventBridgeEventSourceV2#consume_position}
  */
  readonly consumePosition?: string;
}

export function eventBridgeEventSourceV2SourceSlsParametersToTerraform(struct?: EventBridgeEventSourceV2SourceSlsParametersOutputReference | EventBridgeEventSourceV2SourceSlsParameters): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    project: cdktf.stringToTerraform(struct!.project),
    role_name: cdktf.stringToTerraform(struct!.roleName),
    log_store: cdktf.stringToTerraform(struct!.logStore),
    consume_position: cdktf.stringToTerraform(struct!.consumePosition),
  }
}


export function eventBridgeEventSourceV2SourceSlsParametersToHclTerraform(struct?: EventBridgeEventSourceV2SourceSlsParametersOutputReference | EventBridgeEventSourceV2SourceSlsParameters): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    project: {
      value: cdktf.stringToHclTerraform(struct!.project),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    role_name: {
      value: cdktf.stringToHclTerraform(struct!.roleName),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    log_store: {
      value: cdktf.stringToHclTerraform(struct!.logStore),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    consume_position: {
      value: cdktf.stringToHclTerraform(struct!.consumePosition),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class EventBridgeEventSourceV2SourceSlsParametersOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string) {
    super(terraformResource, terraformAttribute, false, 0);
  }

  public get internalValue(): EventBridgeEventSourceV2SourceSlsParameters | undefined {
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._project !== undefined) {
      hasAnyValues = true;
      internalValueResult.project = this._project;
    }
    if (this._roleName !== undefined) {
      hasAnyValues = true;
      internalValueResult.roleName = this._roleName;
    }
    if (this._logStore !== undefined) {
      hasAnyValues = true;
      internalValueResult.logStore = this._logStore;
    }
    if (this._consumePosition !== undefined) {
      hasAnyValues = true;
      internalValueResult.consumePosition = this._consumePosition;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: EventBridgeEventSourceV2SourceSlsParameters | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this._project = undefined;
      this._roleName = undefined;
      this._logStore = undefined;
      this._consumePosition = undefined;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this._project = value.project;
      this._roleName = value.roleName;
      this._logStore = value.logStore;
      this._consumePosition = value.consumePosition;
    }
  }

  // project - computed: false, optional: true, required: false
  private _project?: string; 
  public get project() {
    return this.getStringAttribute('project');
  }
  public set project(value: string) {
    this._project = value;
  }
  public resetProject() {
    this._project = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get projectInput() {
    return this._project;
  }

  // role_name - computed: false, optional: true, required: false
  private _roleName?: string; 
  public get roleName() {
    return this.getStringAttribute('role_name');
  }
  public set roleName(value: string) {
    this._roleName = value;
  }
  public resetRoleName() {
    this._roleName = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get roleNameInput() {
    return this._roleName;
  }

  // log_store - computed: false, optional: true, required: false
  private _logStore?: string; 
  public get logStore() {
    return this.getStringAttribute('log_store');
  }
  public set logStore(value: string) {
    this._logStore = value;
  }
  public resetLogStore() {
    this._logStore = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get logStoreInput() {
    return this._logStore;
  }

  // consume_position - computed: false, optional: true, required: false
  private _consumePosition?: string; 
  public get consumePosition() {
    return this.getStringAttribute('consume_position');
  }
  public set consumePosition(value: string) {
    this._consumePosition = value;
  }
  public resetConsumePosition() {
    this._consumePosition = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get consumePositionInput() {
    return this._consumePosition;
  }
}
export interface EventBridgeEventSourceV2SourceScheduledEventParameters {
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#time_zone EventBridgeEventSourceV2#time_zone}
  */
  readonly timeZone?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#user_data EventBridgeEventSourceV2#user_data}
  */
  readonly userData?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#schedule EventBridgeEventSourceV2#schedule}
  */
  readonly schedule?: string;
}

export function eventBridgeEventSourceV2SourceScheduledEventParametersToTerraform(struct?: EventBridgeEventSourceV2SourceScheduledEventParametersOutputReference | EventBridgeEventSourceV2SourceScheduledEventParameters): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    time_zone: cdktf.stringToTerraform(struct!.timeZone),
    user_data: cdktf.stringToTerraform(struct!.userData),
    schedule: cdktf.stringToTerraform(struct!.schedule),
  }
}


export function eventBridgeEventSourceV2SourceScheduledEventParametersToHclTerraform(struct?: EventBridgeEventSourceV2SourceScheduledEventParametersOutputReference | EventBridgeEventSourceV2SourceScheduledEventParameters): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    time_zone: {
      value: cdktf.stringToHclTerraform(struct!.timeZone),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    user_data: {
      value: cdktf.stringToHclTerraform(struct!.userData),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    schedule: {
      value: cdktf.stringToHclTerraform(struct!.schedule),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class EventBridgeEventSourceV2SourceScheduledEventParametersOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string) {
    super(terraformResource, terraformAttribute, false, 0);
  }

  public get internalValue(): EventBridgeEventSourceV2SourceScheduledEventParameters | undefined {
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._timeZone !== undefined) {
      hasAnyValues = true;
      internalValueResult.timeZone = this._timeZone;
    }
    if (this._userData !== undefined) {
      hasAnyValues = true;
      internalValueResult.userData = this._userData;
    }
    if (this._schedule !== undefined) {
      hasAnyValues = true;
      internalValueResult.schedule = this._schedule;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: EventBridgeEventSourceV2SourceScheduledEventParameters | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this._timeZone = undefined;
      this._userData = undefined;
      this._schedule = undefined;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this._timeZone = value.timeZone;
      this._userData = value.userData;
      this._schedule = value.schedule;
    }
  }

  // time_zone - computed: false, optional: true, required: false
  private _timeZone?: string; 
  public get timeZone() {
    return this.getStringAttribute('time_zone');
  }
  public set timeZone(value: string) {
    this._timeZone = value;
  }
  public resetTimeZone() {
    this._timeZone = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get timeZoneInput() {
    return this._timeZone;
  }

  // user_data - computed: true, optional: true, required: false
  private _userData?: string; 
  public get userData() {
    return this.getStringAttribute('user_data');
  }
  public set userData(value: string) {
    this._userData = value;
  }
  public resetUserData() {
    this._userData = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get userDataInput() {
    return this._userData;
  }

  // schedule - computed: false, optional: true, required: false
  private _schedule?: string; 
  public get schedule() {
    return this.getStringAttribute('schedule');
  }
  public set schedule(value: string) {
    this._schedule = value;
  }
  public resetSchedule() {
    this._schedule = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get scheduleInput() {
    return this._schedule;
  }
}
export interface EventBridgeEventSourceV2Timeouts {
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#create EventBridgeEventSourceV2#create}
  */
  readonly create?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#update EventBridgeEventSourceV2#update}
  */
  readonly update?: string;
  /**
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#delete EventBridgeEventSourceV2#delete}
  */
  readonly delete?: string;
}

export function eventBridgeEventSourceV2TimeoutsToTerraform(struct?: EventBridgeEventSourceV2Timeouts | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    create: cdktf.stringToTerraform(struct!.create),
    update: cdktf.stringToTerraform(struct!.update),
    delete: cdktf.stringToTerraform(struct!.delete),
  }
}


export function eventBridgeEventSourceV2TimeoutsToHclTerraform(struct?: EventBridgeEventSourceV2Timeouts | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    create: {
      value: cdktf.stringToHclTerraform(struct!.create),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    update: {
      value: cdktf.stringToHclTerraform(struct!.update),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    delete: {
      value: cdktf.stringToHclTerraform(struct!.delete),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class EventBridgeEventSourceV2TimeoutsOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;
  private resolvableValue?: cdktf.IResolvable;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string) {
    super(terraformResource, terraformAttribute, false);
  }

  public get internalValue(): EventBridgeEventSourceV2Timeouts | cdktf.IResolvable | undefined {
    if (this.resolvableValue) {
      return this.resolvableValue;
    }
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._create !== undefined) {
      hasAnyValues = true;
      internalValueResult.create = this._create;
    }
    if (this._update !== undefined) {
      hasAnyValues = true;
      internalValueResult.update = this._update;
    }
    if (this._delete !== undefined) {
      hasAnyValues = true;
      internalValueResult.delete = this._delete;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: EventBridgeEventSourceV2Timeouts | cdktf.IResolvable | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this.resolvableValue = undefined;
      this._create = undefined;
      this._update = undefined;
      this._delete = undefined;
    }
    else if (cdktf.Tokenization.isResolvable(value)) {
      this.isEmptyObject = false;
      this.resolvableValue = value;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this.resolvableValue = undefined;
      this._create = value.create;
      this._update = value.update;
      this._delete = value.delete;
    }
  }

  // create - computed: false, optional: true, required: false
  private _create?: string; 
  public get create() {
    return this.getStringAttribute('create');
  }
  public set create(value: string) {
    this._create = value;
  }
  public resetCreate() {
    this._create = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get createInput() {
    return this._create;
  }

  // update - computed: false, optional: true, required: false
  private _update?: string; 
  public get update() {
    return this.getStringAttribute('update');
  }
  public set update(value: string) {
    this._update = value;
  }
  public resetUpdate() {
    this._update = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get updateInput() {
    return this._update;
  }

  // delete - computed: false, optional: true, required: false
  private _delete?: string; 
  public get delete() {
    return this.getStringAttribute('delete');
  }
  public set delete(value: string) {
    this._delete = value;
  }
  public resetDelete() {
    this._delete = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get deleteInput() {
    return this._delete;
  }
}

/**
* Represents a {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2 alicloud_event_bridge_event_source_v2}
*/
export class EventBridgeEventSourceV2 extends cdktf.TerraformResource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "alicloud_event_bridge_event_source_v2";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a EventBridgeEventSourceV2 resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the EventBridgeEventSourceV2 to import
  * @param importFromId The id of the existing EventBridgeEventSourceV2 that should be imported. Refer to the {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the EventBridgeEventSourceV2 to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "alicloud_event_bridge_event_source_v2", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/aliyun/alicloud/1.289.0/docs/resources/event_bridge_event_source_v2 alicloud_event_bridge_event_source_v2} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options EventBridgeEventSourceV2Config
  */
  public constructor(scope: Construct, id: string, config: EventBridgeEventSourceV2Config) {
    super(scope, id, {
      terraformResourceType: 'alicloud_event_bridge_event_source_v2',
      terraformGeneratorMetadata: {
        providerName: 'alicloud',
        providerVersion: '1.289.0',
        providerVersionConstraint: '1.289.0'
      },
      provider: config.provider,
      dependsOn: config.dependsOn,
      count: config.count,
      lifecycle: config.lifecycle,
      provisioners: config.provisioners,
      connection: config.connection,
      forEach: config.forEach
    });
    this._description = config.description;
    this._eventBusName = config.eventBusName;
    this._eventSourceName = config.eventSourceName;
    this._linkedExternalSource = config.linkedExternalSource;
    this._id = config.id;
    this._sourceHttpEventParameters.internalValue = config.sourceHttpEventParameters;
    this._sourceKafkaParameters.internalValue = config.sourceKafkaParameters;
    this._sourceMnsParameters.internalValue = config.sourceMnsParameters;
    this._sourceOssEventParameters.internalValue = config.sourceOssEventParameters;
    this._sourceRabbitMqParameters.internalValue = config.sourceRabbitMqParameters;
    this._sourceRocketmqParameters.internalValue = config.sourceRocketmqParameters;
    this._sourceSlsParameters.internalValue = config.sourceSlsParameters;
    this._sourceScheduledEventParameters.internalValue = config.sourceScheduledEventParameters;
    this._timeouts.internalValue = config.timeouts;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // description - computed: false, optional: true, required: false
  private _description?: string; 
  public get description() {
    return this.getStringAttribute('description');
  }
  public set description(value: string) {
    this._description = value;
  }
  public resetDescription() {
    this._description = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get descriptionInput() {
    return this._description;
  }

  // event_bus_name - computed: false, optional: false, required: true
  private _eventBusName?: string; 
  public get eventBusName() {
    return this.getStringAttribute('event_bus_name');
  }
  public set eventBusName(value: string) {
    this._eventBusName = value;
  }
  // Temporarily expose input value. Use with caution.
  public get eventBusNameInput() {
    return this._eventBusName;
  }

  // event_source_name - computed: false, optional: false, required: true
  private _eventSourceName?: string; 
  public get eventSourceName() {
    return this.getStringAttribute('event_source_name');
  }
  public set eventSourceName(value: string) {
    this._eventSourceName = value;
  }
  // Temporarily expose input value. Use with caution.
  public get eventSourceNameInput() {
    return this._eventSourceName;
  }

  // linked_external_source - computed: false, optional: true, required: false
  private _linkedExternalSource?: boolean | cdktf.IResolvable; 
  public get linkedExternalSource() {
    return this.getBooleanAttribute('linked_external_source');
  }
  public set linkedExternalSource(value: boolean | cdktf.IResolvable) {
    this._linkedExternalSource = value;
  }
  public resetLinkedExternalSource() {
    this._linkedExternalSource = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get linkedExternalSourceInput() {
    return this._linkedExternalSource;
  }

  // id - computed: true, optional: true, required: false
  private _id?: string; 
  public get id() {
    return this.getStringAttribute('id');
  }
  public set id(value: string) {
    this._id = value;
  }
  public resetId() {
    this._id = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get idInput() {
    return this._id;
  }

  // source_http_event_parameters - computed: false, optional: true, required: false
  private _sourceHttpEventParameters = new EventBridgeEventSourceV2SourceHttpEventParametersOutputReference(this, "source_http_event_parameters");
  public get sourceHttpEventParameters() {
    return this._sourceHttpEventParameters;
  }
  public putSourceHttpEventParameters(value: EventBridgeEventSourceV2SourceHttpEventParameters) {
    this._sourceHttpEventParameters.internalValue = value;
  }
  public resetSourceHttpEventParameters() {
    this._sourceHttpEventParameters.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get sourceHttpEventParametersInput() {
    return this._sourceHttpEventParameters.internalValue;
  }

  // source_kafka_parameters - computed: false, optional: true, required: false
  private _sourceKafkaParameters = new EventBridgeEventSourceV2SourceKafkaParametersOutputReference(this, "source_kafka_parameters");
  public get sourceKafkaParameters() {
    return this._sourceKafkaParameters;
  }
  public putSourceKafkaParameters(value: EventBridgeEventSourceV2SourceKafkaParameters) {
    this._sourceKafkaParameters.internalValue = value;
  }
  public resetSourceKafkaParameters() {
    this._sourceKafkaParameters.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get sourceKafkaParametersInput() {
    return this._sourceKafkaParameters.internalValue;
  }

  // source_mns_parameters - computed: false, optional: true, required: false
  private _sourceMnsParameters = new EventBridgeEventSourceV2SourceMnsParametersOutputReference(this, "source_mns_parameters");
  public get sourceMnsParameters() {
    return this._sourceMnsParameters;
  }
  public putSourceMnsParameters(value: EventBridgeEventSourceV2SourceMnsParameters) {
    this._sourceMnsParameters.internalValue = value;
  }
  public resetSourceMnsParameters() {
    this._sourceMnsParameters.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get sourceMnsParametersInput() {
    return this._sourceMnsParameters.internalValue;
  }

  // source_oss_event_parameters - computed: false, optional: true, required: false
  private _sourceOssEventParameters = new EventBridgeEventSourceV2SourceOssEventParametersOutputReference(this, "source_oss_event_parameters");
  public get sourceOssEventParameters() {
    return this._sourceOssEventParameters;
  }
  public putSourceOssEventParameters(value: EventBridgeEventSourceV2SourceOssEventParameters) {
    this._sourceOssEventParameters.internalValue = value;
  }
  public resetSourceOssEventParameters() {
    this._sourceOssEventParameters.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get sourceOssEventParametersInput() {
    return this._sourceOssEventParameters.internalValue;
  }

  // source_rabbit_mq_parameters - computed: false, optional: true, required: false
  private _sourceRabbitMqParameters = new EventBridgeEventSourceV2SourceRabbitMqParametersOutputReference(this, "source_rabbit_mq_parameters");
  public get sourceRabbitMqParameters() {
    return this._sourceRabbitMqParameters;
  }
  public putSourceRabbitMqParameters(value: EventBridgeEventSourceV2SourceRabbitMqParameters) {
    this._sourceRabbitMqParameters.internalValue = value;
  }
  public resetSourceRabbitMqParameters() {
    this._sourceRabbitMqParameters.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get sourceRabbitMqParametersInput() {
    return this._sourceRabbitMqParameters.internalValue;
  }

  // source_rocketmq_parameters - computed: false, optional: true, required: false
  private _sourceRocketmqParameters = new EventBridgeEventSourceV2SourceRocketmqParametersOutputReference(this, "source_rocketmq_parameters");
  public get sourceRocketmqParameters() {
    return this._sourceRocketmqParameters;
  }
  public putSourceRocketmqParameters(value: EventBridgeEventSourceV2SourceRocketmqParameters) {
    this._sourceRocketmqParameters.internalValue = value;
  }
  public resetSourceRocketmqParameters() {
    this._sourceRocketmqParameters.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get sourceRocketmqParametersInput() {
    return this._sourceRocketmqParameters.internalValue;
  }

  // source_sls_parameters - computed: false, optional: true, required: false
  private _sourceSlsParameters = new EventBridgeEventSourceV2SourceSlsParametersOutputReference(this, "source_sls_parameters");
  public get sourceSlsParameters() {
    return this._sourceSlsParameters;
  }
  public putSourceSlsParameters(value: EventBridgeEventSourceV2SourceSlsParameters) {
    this._sourceSlsParameters.internalValue = value;
  }
  public resetSourceSlsParameters() {
    this._sourceSlsParameters.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get sourceSlsParametersInput() {
    return this._sourceSlsParameters.internalValue;
  }

  // source_scheduled_event_parameters - computed: false, optional: true, required: false
  private _sourceScheduledEventParameters = new EventBridgeEventSourceV2SourceScheduledEventParametersOutputReference(this, "source_scheduled_event_parameters");
  public get sourceScheduledEventParameters() {
    return this._sourceScheduledEventParameters;
  }
  public putSourceScheduledEventParameters(value: EventBridgeEventSourceV2SourceScheduledEventParameters) {
    this._sourceScheduledEventParameters.internalValue = value;
  }
  public resetSourceScheduledEventParameters() {
    this._sourceScheduledEventParameters.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get sourceScheduledEventParametersInput() {
    return this._sourceScheduledEventParameters.internalValue;
  }

  // timeouts - computed: false, optional: true, required: false
  private _timeouts = new EventBridgeEventSourceV2TimeoutsOutputReference(this, "timeouts");
  public get timeouts() {
    return this._timeouts;
  }
  public putTimeouts(value: EventBridgeEventSourceV2Timeouts) {
    this._timeouts.internalValue = value;
  }
  public resetTimeouts() {
    this._timeouts.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get timeoutsInput() {
    return this._timeouts.internalValue;
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      description: cdktf.stringToTerraform(this._description),
      event_bus_name: cdktf.stringToTerraform(this._eventBusName),
      event_source_name: cdktf.stringToTerraform(this._eventSourceName),
      linked_external_source: cdktf.booleanToTerraform(this._linkedExternalSource),
      id: cdktf.stringToTerraform(this._id),
      source_http_event_parameters: eventBridgeEventSourceV2SourceHttpEventParametersToTerraform(this._sourceHttpEventParameters.internalValue),
      source_kafka_parameters: eventBridgeEventSourceV2SourceKafkaParametersToTerraform(this._sourceKafkaParameters.internalValue),
      source_mns_parameters: eventBridgeEventSourceV2SourceMnsParametersToTerraform(this._sourceMnsParameters.internalValue),
      source_oss_event_parameters: eventBridgeEventSourceV2SourceOssEventParametersToTerraform(this._sourceOssEventParameters.internalValue),
      source_rabbit_mq_parameters: eventBridgeEventSourceV2SourceRabbitMqParametersToTerraform(this._sourceRabbitMqParameters.internalValue),
      source_rocketmq_parameters: eventBridgeEventSourceV2SourceRocketmqParametersToTerraform(this._sourceRocketmqParameters.internalValue),
      source_sls_parameters: eventBridgeEventSourceV2SourceSlsParametersToTerraform(this._sourceSlsParameters.internalValue),
      source_scheduled_event_parameters: eventBridgeEventSourceV2SourceScheduledEventParametersToTerraform(this._sourceScheduledEventParameters.internalValue),
      timeouts: eventBridgeEventSourceV2TimeoutsToTerraform(this._timeouts.internalValue),
    };
  }

  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      description: {
        value: cdktf.stringToHclTerraform(this._description),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      event_bus_name: {
        value: cdktf.stringToHclTerraform(this._eventBusName),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      event_source_name: {
        value: cdktf.stringToHclTerraform(this._eventSourceName),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      linked_external_source: {
        value: cdktf.booleanToHclTerraform(this._linkedExternalSource),
        isBlock: false,
        type: "simple",
        storageClassType: "boolean",
      },
      id: {
        value: cdktf.stringToHclTerraform(this._id),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      source_http_event_parameters: {
        value: eventBridgeEventSourceV2SourceHttpEventParametersToHclTerraform(this._sourceHttpEventParameters.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "EventBridgeEventSourceV2SourceHttpEventParametersList",
      },
      source_kafka_parameters: {
        value: eventBridgeEventSourceV2SourceKafkaParametersToHclTerraform(this._sourceKafkaParameters.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "EventBridgeEventSourceV2SourceKafkaParametersList",
      },
      source_mns_parameters: {
        value: eventBridgeEventSourceV2SourceMnsParametersToHclTerraform(this._sourceMnsParameters.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "EventBridgeEventSourceV2SourceMnsParametersList",
      },
      source_oss_event_parameters: {
        value: eventBridgeEventSourceV2SourceOssEventParametersToHclTerraform(this._sourceOssEventParameters.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "EventBridgeEventSourceV2SourceOssEventParametersList",
      },
      source_rabbit_mq_parameters: {
        value: eventBridgeEventSourceV2SourceRabbitMqParametersToHclTerraform(this._sourceRabbitMqParameters.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "EventBridgeEventSourceV2SourceRabbitMqParametersList",
      },
      source_rocketmq_parameters: {
        value: eventBridgeEventSourceV2SourceRocketmqParametersToHclTerraform(this._sourceRocketmqParameters.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "EventBridgeEventSourceV2SourceRocketmqParametersList",
      },
      source_sls_parameters: {
        value: eventBridgeEventSourceV2SourceSlsParametersToHclTerraform(this._sourceSlsParameters.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "EventBridgeEventSourceV2SourceSlsParametersList",
      },
      source_scheduled_event_parameters: {
        value: eventBridgeEventSourceV2SourceScheduledEventParametersToHclTerraform(this._sourceScheduledEventParameters.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "EventBridgeEventSourceV2SourceScheduledEventParametersList",
      },
      timeouts: {
        value: eventBridgeEventSourceV2TimeoutsToHclTerraform(this._timeouts.internalValue),
        isBlock: true,
        type: "struct",
        storageClassType: "EventBridgeEventSourceV2Timeouts",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
