import { decideOrder, type OrderCommand } from '../../domain/order/orderCommands';
import type { OrderEvent } from '../../domain/order/orderEvents';
import { evolveOrder, initialOrderState, type OrderState } from '../../domain/order/orderState';
import { decideProduct, type ProductCommand } from '../../domain/product/productCommands';
import type { ProductEvent } from '../../domain/product/productEvents';
import { evolveProduct, initialProductState, type ProductState } from '../../domain/product/productState';
import { decideUser, type UserCommand } from '../../domain/user/userCommands';
import type { UserEvent } from '../../domain/user/userEvents';
import { evolveUser, initialUserState, type UserState } from '../../domain/user/userState';
import type { Aggregate } from './AggregateRepository';

export const userAggregate: Aggregate<UserState, UserEvent, UserCommand> = {
  initialState: initialUserState,
  evolve: evolveUser,
  decide: decideUser,
};

export const productAggregate: Aggregate<ProductState, ProductEvent, ProductCommand> = {
  initialState: initialProductState,
  evolve: evolveProduct,
  decide: decideProduct,
};

export const orderAggregate: Aggregate<OrderState, OrderEvent, OrderCommand> = {
  initialState: initialOrderState,
  evolve: evolveOrder,
  decide: decideOrder,
};
