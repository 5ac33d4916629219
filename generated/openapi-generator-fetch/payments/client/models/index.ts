/* tslint:disable */
/* eslint-disable */
export * from './Card.js';
export * from './CardToken.js';
export * from './Document.js';
export * from './Payment.js';
export * from './PaymentList.js';
export * from './PaymentRequest.js';
export * from './Refund.js';
