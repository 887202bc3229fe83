// Stand-in for the SDK's global declarations, for the ArkTS lint (lint.js): `console` (the SDK's
// global.d.ts), and the ArkUI decorators, components, attributes and enums the sample page uses
// (ets/component/*.d.ts), declared the way the SDK declares them (an Interface callable to create
// the component, an Attribute class of chainable methods, and an Instance constant), so the
// compiler's ETS mode checks build() as DevEco does. lint.js lists the same components in its
// `ets` options.
declare class console {
  static debug(message: string, ...args: Object[]): void;
  static log(message: string, ...args: Object[]): void;
  static info(message: string, ...args: Object[]): void;
  static warn(message: string, ...args: Object[]): void;
  static error(message: string, ...args: Object[]): void;
}

declare const Entry: ClassDecorator;
declare const Component: ClassDecorator;
declare const State: PropertyDecorator;

declare type Length = string | number;
declare type ResourceStr = string;

declare enum FontWeight {
  Lighter,
  Normal,
  Regular,
  Medium,
  Bold,
  Bolder,
}

declare enum Alignment {
  TopStart,
  Top,
  TopEnd,
  Start,
  Center,
  End,
  BottomStart,
  Bottom,
  BottomEnd,
}

declare class ClickEvent {
  x: number;
  y: number;
}

declare class CommonMethod<T> {
  width(value: Length): T;
  height(value: Length): T;
  padding(value: Length): T;
  enabled(value: boolean): T;
  layoutWeight(value: number | string): T;
  align(value: Alignment): T;
  onClick(event: (event: ClickEvent) => void): T;
}

declare class CommonAttribute extends CommonMethod<CommonAttribute> {}
declare const CommonInstance: CommonAttribute;

/** What a @Component struct implicitly extends (the `customComponent` of the ets options). */
declare class CustomComponent extends CommonAttribute {
  build(): void;
  aboutToAppear?(): void;
  aboutToDisappear?(): void;
}

declare class Context {}
declare function getContext(component?: Object): Context;

interface ColumnOptions {
  space?: string | number;
}
interface ColumnInterface {
  (options?: ColumnOptions): ColumnAttribute;
}
declare class ColumnAttribute extends CommonMethod<ColumnAttribute> {}
declare const Column: ColumnInterface;
declare const ColumnInstance: ColumnAttribute;

interface TextInterface {
  (content?: string | ResourceStr): TextAttribute;
}
declare class TextAttribute extends CommonMethod<TextAttribute> {
  fontSize(value: number | string): TextAttribute;
  fontWeight(value: number | FontWeight | string): TextAttribute;
  fontFamily(value: string): TextAttribute;
}
declare const Text: TextInterface;
declare const TextInstance: TextAttribute;

interface ButtonInterface {
  (label: ResourceStr): ButtonAttribute;
}
declare class ButtonAttribute extends CommonMethod<ButtonAttribute> {}
declare const Button: ButtonInterface;
declare const ButtonInstance: ButtonAttribute;

declare class Scroller {}
interface ScrollInterface {
  (scroller?: Scroller): ScrollAttribute;
}
declare class ScrollAttribute extends CommonMethod<ScrollAttribute> {}
declare const Scroll: ScrollInterface;
declare const ScrollInstance: ScrollAttribute;
